using System.Numerics;
using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Python;
using PyMpiBridge.Tests.Python;

namespace PyMpiBridge.Tests.DataFrames;

/// <summary>pandas → Microsoft.Data.Analysis inside one process: every column type, nulls, names, the index, and zero copy.</summary>
public class PandasToDataFrameTests
{
    internal static PyObject Pandas(string code, string name = "df")
    {
        using var globals = PythonFixture.Run("import numpy as np, pandas as pd\n" + code);
        return globals[name];
    }

    [TestCase("int8", typeof(sbyte), typeof(SByteDataFrameColumn))]
    [TestCase("uint8", typeof(byte), typeof(ByteDataFrameColumn))]
    [TestCase("int16", typeof(short), typeof(Int16DataFrameColumn))]
    [TestCase("uint16", typeof(ushort), typeof(UInt16DataFrameColumn))]
    [TestCase("int32", typeof(int), typeof(Int32DataFrameColumn))]
    [TestCase("uint32", typeof(uint), typeof(UInt32DataFrameColumn))]
    [TestCase("int64", typeof(long), typeof(Int64DataFrameColumn))]
    [TestCase("uint64", typeof(ulong), typeof(UInt64DataFrameColumn))]
    [TestCase("float16", typeof(Half), typeof(PrimitiveDataFrameColumn<Half>))]
    [TestCase("float32", typeof(float), typeof(SingleDataFrameColumn))]
    [TestCase("float64", typeof(double), typeof(DoubleDataFrameColumn))]
    [TestCase("complex64", typeof(Complex32), typeof(PrimitiveDataFrameColumn<Complex32>))]
    [TestCase("complex128", typeof(Complex), typeof(PrimitiveDataFrameColumn<Complex>))]
    [TestCase("bool", typeof(bool), typeof(BooleanDataFrameColumn))]
    public void NumpyDtypeColumn_ArrivesAsTheMatchingColumnType_WithEqualValues_AndGoesBackAsTheSameDtype(string dtype, Type element, Type columnType)
    {
        using var gil = Py.Gil();
        using var df = Pandas($"df = pd.DataFrame({{'v': (np.arange(7) % 2 == 1) if '{dtype}' == 'bool' else np.arange(7).astype('{dtype}') * 3}})");
        var frame = df.ToDataFrame();
        var column = frame.Columns["v"];
        Assert.That(column.GetType(), Is.EqualTo(columnType));
        Assert.That(column.DataType, Is.EqualTo(element));
        Assert.That(column.Length, Is.EqualTo(7));
        Assert.That(column.NullCount, Is.Zero);
        using var expected = Py.Eval("df['v'].tolist()", Globals(df));
        var values = Enumerable.Range(0, 7).Select(i => Convert.ToString(column[i], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(values, Is.EqualTo(expected.As<List<object?>>().Select(v => Expected(v, element)).ToList()));

        using var back = frame.ToPandas();
        using var same = Py.Eval("back.equals(df) and str(back['v'].dtype) == str(df['v'].dtype)", Globals(df, back));
        Assert.That(same.IsTrue(), Is.True, back.ToString());
    }

    /// <summary>How the .NET column prints a value Python gave (to compare both without per-type code).</summary>
    private static string? Expected(object? python, Type element)
    {
        object? v = python switch
        {
            Complex c when element == typeof(Complex32) => new Complex32((float)c.Real, (float)c.Imaginary),
            Complex c => c,
            double d when element == typeof(Half) => (Half)d,
            double d when element == typeof(float) => (float)d,
            double d => d,
            long l => Convert.ChangeType(l, element, System.Globalization.CultureInfo.InvariantCulture),
            BigInteger b => (ulong)b,
            bool b => b,
            _ => python,
        };
        return Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static PyObject Globals(PyObject df, PyObject? back = null)
    {
        var globals = Py.NewGlobals();
        globals["df"] = df;
        if (back is not null) globals["back"] = back;
        return globals;
    }

    [Test]
    public void NumericColumns_WrapPandasMemory_WithoutCopying_AndCopyOnTheirFirstChange()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import numpy as np, pandas as pd
            df = pd.DataFrame({'a': np.arange(5.0), 'b': np.arange(5, dtype=np.int32)})
            """);
        var frame = globals["df"].ToDataFrame();
        Py.Exec("df.loc[2, 'a'] = 42.0", globals); // pandas writes its own memory in place
        Assert.That(frame.Columns["a"][2], Is.EqualTo(42.0), "the C# column reads pandas' memory");
        frame.Columns["a"][3] = -1.0;                // the C# column copies before its first change
        using var untouched = Py.Eval("float(df.loc[3, 'a'])", globals);
        Assert.That(untouched.As<double>(), Is.EqualTo(3.0), "a change in C# does not write into pandas' data");
        Assert.That(frame.Columns["a"][3], Is.EqualTo(-1.0));
    }

    [Test]
    public void WrappedColumn_KeepsThePandasDataAlive_AfterPythonDropsEveryReference()
    {
        DataFrame frame;
        using (Py.Gil())
        {
            using var globals = PythonFixture.Run("import numpy as np, pandas as pd\ndf = pd.DataFrame({'a': np.arange(100000.0)})");
            frame = globals["df"].ToDataFrame();
            Py.Exec("del df; import gc; gc.collect(); junk = [np.full(100000, -7.0) for _ in range(20)]", globals);
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var column = (DoubleDataFrameColumn)frame.Columns["a"];
        Assert.That(column[0], Is.EqualTo(0.0));
        Assert.That(column[99999], Is.EqualTo(99999.0));
        Assert.That(column.Sum(), Is.EqualTo(99999.0 * 100000 / 2));
    }

    [Test]
    public void NullableDtypes_ArriveWithNulls_WhereValuesAreMissing()
    {
        using var gil = Py.Gil();
        using var df = Pandas("""
            df = pd.DataFrame({'i': pd.array([1, None, 3], dtype='Int64'), 'u': pd.array([None, 2, 3], dtype='UInt8'),
                               'f': pd.array([0.5, None, None], dtype='Float32'), 'b': pd.array([True, None, False], dtype='boolean')})
            """);
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns["i"].Cast<long?>(), Is.EqualTo(new long?[] { 1, null, 3 }));
        Assert.That(frame.Columns["u"].Cast<byte?>(), Is.EqualTo(new byte?[] { null, 2, 3 }));
        Assert.That(frame.Columns["f"].Cast<float?>(), Is.EqualTo(new float?[] { 0.5f, null, null }));
        Assert.That(frame.Columns["b"].Cast<bool?>(), Is.EqualTo(new bool?[] { true, null, false }));
        Assert.That(frame.Columns.Select(c => c.NullCount), Is.EqualTo(new long[] { 1, 1, 2, 1 }));

        using var back = frame.ToPandas();
        using var same = Py.Eval("back.equals(df) and list(back.dtypes.astype(str)) == list(df.dtypes.astype(str))", Globals(df, back));
        Assert.That(same.IsTrue(), Is.True, back.ToString());
    }

    [Test]
    public void NaN_IsAValueByDefault_AndANullWhenAsked()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame({'x': [1.0, np.nan, 3.0]})");
        var plain = df.ToDataFrame();
        Assert.That(plain.Columns["x"].NullCount, Is.Zero);
        Assert.That(double.IsNaN((double)plain.Columns["x"][1]!), Is.True);
        var nulls = df.ToDataFrame(new DataFrameConversionOptions { NaNAsNull = true });
        Assert.That(nulls.Columns["x"].Cast<double?>(), Is.EqualTo(new double?[] { 1, null, 3 }));
    }

    [Test]
    public void DatetimeColumns_ArriveAsDateTimes_NaTAsNull_TzAwareAsUtc()
    {
        using var gil = Py.Gil();
        using var df = Pandas("""
            df = pd.DataFrame({'t': pd.to_datetime(['2024-02-29 13:45:10.1234567', None, '1969-07-20 20:17:40']),
                               'z': pd.to_datetime(['2024-01-01 12:00', '2024-06-01 00:00', '2000-01-01']).tz_localize('Europe/Berlin')})
            """);
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns["t"], Is.TypeOf<DateTimeDataFrameColumn>());
        Assert.That(frame.Columns["t"].Cast<DateTime?>(), Is.EqualTo(new DateTime?[]
            { new DateTime(2024, 2, 29, 13, 45, 10).AddTicks(1234567), null, new DateTime(1969, 7, 20, 20, 17, 40) }));
        var z = frame.Columns["z"].Cast<DateTime?>().ToList();
        Assert.That(z[0], Is.EqualTo(new DateTime(2024, 1, 1, 11, 0, 0, DateTimeKind.Utc)));
        Assert.That(z[1], Is.EqualTo(new DateTime(2024, 5, 31, 22, 0, 0, DateTimeKind.Utc)));
        Assert.That(z.Select(t => t!.Value.Kind), Is.All.EqualTo(DateTimeKind.Utc));

        using var back = frame.ToPandas();
        using var same = Py.Eval("back['t'].equals(df['t']) and (back['z'] == df['z'].dt.tz_convert(None)).all() and str(back['t'].dtype) == 'datetime64[ns]'",
                                 Globals(df, back));
        Assert.That(same.IsTrue(), Is.True, back.ToString());
    }

    [Test]
    public void StringColumns_AreCopied_WithNoneAndNaNAsNull_AndAnyUnicode()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame({'s': ['plain', None, '', 'Grüße 😀 日本', np.nan], 'n': pd.array(['x', None, 'z', 'w', 'v'], dtype='string')})");
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns["s"], Is.TypeOf<StringDataFrameColumn>());
        Assert.That(frame.Columns["s"].Cast<string?>(), Is.EqualTo(new[] { "plain", null, "", "Grüße 😀 日本", null }));
        Assert.That(frame.Columns["s"].NullCount, Is.EqualTo(2));
        Assert.That(frame.Columns["n"].Cast<string?>(), Is.EqualTo(new[] { "x", null, "z", "w", "v" }));

        using var back = frame.ToPandas();
        using var values = Py.Eval("back['s'].tolist()", Globals(df, back));
        Assert.That(values.As<List<string?>>(), Is.EqualTo(new[] { "plain", null, "", "Grüße 😀 日本", null }));
    }

    [Test]
    public void CategoricalColumn_ConvertsByItsValues()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame({'c': pd.Categorical(['x', None, 'x']), 'n': pd.Categorical([3, 1, 3])})");
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns["c"].Cast<string?>(), Is.EqualTo(new[] { "x", null, "x" }));
        Assert.That(frame.Columns["n"].Cast<long>(), Is.EqualTo(new long[] { 3, 1, 3 }));
    }

    [Test]
    public void ColumnNamesAndOrder_AreKept_NonStringNamesBecomeTheirStr()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame({'zeta': [1], 'alpha': [2.0], 3: ['x'], 'mid': [True]})");
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns.Select(c => c.Name), Is.EqualTo(new[] { "zeta", "alpha", "3", "mid" }));
    }

    [Test]
    public void RangeIndex_IsDropped_OtherIndexesBecomeLeadingColumns()
    {
        using var gil = Py.Gil();
        using var ranged = Pandas("df = pd.DataFrame({'a': [1, 2]}, index=pd.RangeIndex(10, 14, 2))");
        Assert.That(ranged.ToDataFrame().Columns.Select(c => c.Name), Is.EqualTo(new[] { "a" }));

        using var named = Pandas("df = pd.DataFrame({'a': [1, 2]}, index=pd.Index(['p', 'q'], name='key'))");
        var frame = named.ToDataFrame();
        Assert.That(frame.Columns.Select(c => c.Name), Is.EqualTo(new[] { "key", "a" }));
        Assert.That(frame.Columns["key"].Cast<string>(), Is.EqualTo(new[] { "p", "q" }));

        using var unnamed = Pandas("df = pd.DataFrame({'a': [1.5, 2.5]}, index=[7, 9])");
        Assert.That(unnamed.ToDataFrame().Columns["index"].Cast<long>(), Is.EqualTo(new long[] { 7, 9 }));

        using var multi = Pandas("df = pd.DataFrame({'v': [1, 2, 3]}).set_index([pd.Index(['a', 'a', 'b'], name='g'), pd.Index([1, 2, 1])])");
        Assert.That(multi.ToDataFrame().Columns.Select(c => c.Name), Is.EqualTo(new[] { "g", "level_1", "v" }));
    }

    [Test]
    public void FortranOrderedBlock_IsCopiedOncePerColumn_AndConvertsCorrectly()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=['a', 'b', 'c'], copy=False)");
        var frame = df.ToDataFrame();
        Assert.That(frame.Columns["b"].Cast<double>(), Is.EqualTo(new[] { 1.0, 4, 7, 10 }));
    }

    [Test]
    public void EmptyFrame_WithColumns_ConvertsToZeroRows()
    {
        using var gil = Py.Gil();
        using var df = Pandas("df = pd.DataFrame({'a': np.zeros(0), 's': pd.Series([], dtype=object)})");
        var frame = df.ToDataFrame();
        Assert.That(frame.Rows.Count, Is.Zero);
        Assert.That(frame.Columns.Select(c => c.Name), Is.EqualTo(new[] { "a", "s" }));
        using var back = frame.ToPandas();
        using var shape = Py.Eval("back.shape", Globals(df, back));
        Assert.That(shape.ToString(), Is.EqualTo("(0, 2)"));
    }
}
