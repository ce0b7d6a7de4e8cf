using System.Numerics;
using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Python;
using PyMpiBridge.Tests.Python;
using static PyMpiBridge.Tests.DataFrames.PandasToDataFrameTests;

namespace PyMpiBridge.Tests.DataFrames;

/// <summary>Microsoft.Data.Analysis → pandas inside one process: dtypes, nulls, copy versus shared memory.</summary>
public class DataFrameToPandasTests
{
    private static DataFrame EveryColumnType(bool withNulls)
    {
        PrimitiveDataFrameColumn<T> Make<T>(string name, Func<int, T> value) where T : unmanaged
            => new(name, Enumerable.Range(0, 4).Select(i => withNulls && i == 1 ? (T?)null : value(i)));
        return new DataFrame(
            Make("i8", i => (sbyte)-i), Make("u8", i => (byte)i), Make("i16", i => (short)(i * 300)), Make("u16", i => (ushort)(i * 300)),
            Make("i32", i => i * 70000), Make("u32", i => (uint)i * 70000u), Make("i64", i => (long)i << 40), Make("u64", i => ulong.MaxValue - (ulong)i),
            Make("f16", i => (Half)(i / 4.0)), Make("f32", i => i * 1.5f), Make("f64", i => i / 3.0),
            Make("c64", i => new Complex32(i, -i)), Make("c128", i => new Complex(i, 0.5)), Make("b", i => i % 2 == 0),
            Make("t", i => new DateTime(2020, 1, 1).AddDays(i).AddTicks(i)),
            new StringDataFrameColumn("s", Enumerable.Range(0, 4).Select(i => withNulls && i == 1 ? null : $"row {i}")));
    }

    [Test]
    public void EveryColumnType_WithoutNulls_BecomesItsNumpyDtype_WithEqualValues()
    {
        using var gil = Py.Gil();
        var frame = EveryColumnType(withNulls: false);
        using var df = frame.ToPandas();
        using var dtypes = Py.Eval("[str(t) for t in df.dtypes]", Globals(df));
        Assert.That(dtypes.As<List<string>>(), Is.EqualTo(new[]
        {
            "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64",
            "complex64", "complex128", "bool", "datetime64[ns]", "object",
        }));
        using var check = PythonFixture.Run("");
        check["df"] = df;
        Py.Exec("""
            import numpy as np, pandas as pd
            ok = (df['i64'].tolist() == [i << 40 for i in range(4)] and df['u64'].tolist() == [2**64 - 1 - i for i in range(4)]
                  and df['c64'].tolist() == [complex(i, -i) for i in range(4)] and df['b'].tolist() == [True, False, True, False]
                  and df['t'].tolist() == [pd.Timestamp('2020-01-01') + pd.Timedelta(days=i, nanoseconds=100 * i) for i in range(4)]
                  and df['s'].tolist() == [f'row {i}' for i in range(4)] and df['f16'].tolist() == [0, 0.25, 0.5, 0.75]
                  and list(df.columns) == ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f16', 'f32', 'f64', 'c64', 'c128', 'b', 't', 's']
                  and isinstance(df.index, pd.RangeIndex))
            """, check);
        Assert.That(check["ok"].IsTrue(), Is.True, df.ToString());
        var back = df.ToDataFrame();
        Assert.That(back.Columns.Select(c => c.DataType), Is.EqualTo(frame.Columns.Select(c => c.DataType)));
        for (int c = 0; c < frame.Columns.Count; c++)
            Assert.That(back.Columns[c].Cast<object>(), Is.EqualTo(frame.Columns[c].Cast<object>()), frame.Columns[c].Name);
    }

    [Test]
    public void Nulls_BecomeNullableDtypes_OrNaNForTypesPandasCannotMask()
    {
        using var gil = Py.Gil();
        var frame = EveryColumnType(withNulls: true);
        using var df = frame.ToPandas();
        using var dtypes = Py.Eval("[str(t) for t in df.dtypes]", Globals(df));
        Assert.That(dtypes.As<List<string>>(), Is.EqualTo(new[]
        {
            "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "float16", "Float32", "Float64",
            "complex64", "complex128", "boolean", "datetime64[ns]", "object",
        }));
        using var missing = Py.Eval("[bool(pd.isna(df[c].iloc[1])) and not df[c].drop(index=1).isna().any() for c in df.columns]",
            PythonWith(df));
        Assert.That(missing.As<List<bool>>(), Is.All.True, "exactly row 1 is missing in every column");
        var back = df.ToDataFrame();
        foreach (var name in new[] { "i8", "u64", "f32", "f64", "b", "t", "s" })
            Assert.That(back.Columns[name].Cast<object?>(), Is.EqualTo(frame.Columns[name].Cast<object?>()), name);
    }

    [Test]
    public void NullsAsNaN_GivesFloatColumnsWithNaN()
    {
        using var gil = Py.Gil();
        var frame = new DataFrame(new Int32DataFrameColumn("i", new int?[] { 1, null, 3 }), new SingleDataFrameColumn("f", new float?[] { null, 2, 3 }),
                                  new BooleanDataFrameColumn("b", new bool?[] { true, null, false }));
        using var df = frame.ToPandas(new DataFrameConversionOptions { NullsAsNaN = true });
        using var result = Py.Eval("([str(t) for t in df.dtypes], df['i'].isna().tolist(), df['f'].isna().tolist(), df['i'].tolist()[0])", PythonWith(df));
        Assert.That(result[0].As<List<string>>(), Is.EqualTo(new[] { "float64", "float32", "boolean" }));
        Assert.That(result[1].As<List<bool>>(), Is.EqualTo(new[] { false, true, false }));
        Assert.That(result[2].As<List<bool>>(), Is.EqualTo(new[] { true, false, false }));
        Assert.That(result[3].As<double>(), Is.EqualTo(1.0));
    }

    [Test]
    public void ByDefault_PandasGetsItsOwnWritableConsolidatedCopy()
    {
        using var gil = Py.Gil();
        var a = new DoubleDataFrameColumn("a", [1.0, 2, 3]);
        var frame = new DataFrame(a, new DoubleDataFrameColumn("b", [4.0, 5, 6]), new Int32DataFrameColumn("n", [7, 8, 9]));
        using var df = frame.ToPandas();
        using var globals = PythonWith(df);
        Py.Exec("blocks = df._mgr.nblocks\ndf.loc[0, 'a'] = 100.0", globals);
        Assert.That(globals["blocks"].As<int>(), Is.EqualTo(2), "one float64 block and one int32 block, as pandas would make");
        Assert.That(a[0], Is.EqualTo(1.0), "pandas wrote its own copy");
        a[1] = -2;
        using var second = Py.Eval("float(df.loc[1, 'a'])", globals);
        Assert.That(second.As<double>(), Is.EqualTo(2.0));
    }

    [Test]
    public void CopiedBlocks_ReturnToTheMemoryPool_WhenPandasLetsGo_AndAreReusedByTheNextConversion()
    {
        using var gil = Py.Gil();
        var frame = new DataFrame(new DoubleDataFrameColumn("a", Enumerable.Range(0, 100_000).Select(i => (double)i)));
        var df = frame.ToPandas();
        long idleBefore = NativeMemoryPool.IdleBytes;
        df.Dispose();
        Py.Exec("import gc; gc.collect()");
        Assert.That(NativeMemoryPool.IdleBytes, Is.GreaterThanOrEqualTo(idleBefore + 800_000), "the 800 kB block came back");
        long idleAfterRelease = NativeMemoryPool.IdleBytes;
        using var again = frame.ToPandas();
        Assert.That(NativeMemoryPool.IdleBytes, Is.LessThanOrEqualTo(idleAfterRelease - 800_000), "the next conversion took it");
        using var last = Py.Eval("float(df['a'].iloc[-1])", PythonWith(again));
        Assert.That(last.As<double>(), Is.EqualTo(99_999.0));
    }

    [Test]
    public void ShareMemory_ShowsTheColumnsToPandasReadOnly_WithoutCopying()
    {
        using var gil = Py.Gil();
        var a = new DoubleDataFrameColumn("a", [1.0, 2, 3]);
        var frame = new DataFrame(a, new Int64DataFrameColumn("n", new long?[] { 1, null, 3 }));
        using var df = frame.ToPandas(new DataFrameConversionOptions { ShareMemory = true });
        using var globals = PythonWith(df);
        a[2] = 30; // an in-place change of a column C# owns: pandas reads the same memory
        Py.Exec("""
            seen = float(df.loc[2, 'a'])
            try:
                df['a'].values[0] = 5.0
                error = ''
            except ValueError as e:
                error = str(e)
            """, globals);
        Assert.That(globals["seen"].As<double>(), Is.EqualTo(30.0));
        Assert.That(globals["error"].As<string>(), Does.Contain("read-only"));
        using var nulls = Py.Eval("df['n'].isna().tolist()", globals);
        Assert.That(nulls.As<List<bool>>(), Is.EqualTo(new[] { false, true, false }));
    }

    [Test]
    public void ManyRows_CrossBothWays_Exactly()
    {
        using var gil = Py.Gil();
        const int n = 1 << 20;
        var frame = new DataFrame(new DoubleDataFrameColumn("x", Enumerable.Range(0, n).Select(i => i * 0.5)),
                                  new Int32DataFrameColumn("k", Enumerable.Range(0, n).Select(i => i % 7 == 0 ? (int?)null : i)));
        using var df = frame.ToPandas();
        using var sums = Py.Eval("(float(df['x'].sum()), int(df['k'].sum()), int(df['k'].isna().sum()))", PythonWith(df));
        Assert.That(sums[0].As<double>(), Is.EqualTo(0.5 * (n - 1.0) * n / 2));
        long expectedK = Enumerable.Range(0, n).Where(i => i % 7 != 0).Sum(i => (long)i);
        Assert.That(sums[1].As<long>(), Is.EqualTo(expectedK));
        Assert.That(sums[2].As<int>(), Is.EqualTo((n + 6) / 7));
        var back = df.ToDataFrame();
        Assert.That(((PrimitiveDataFrameColumn<int>)back.Columns["k"]).NullCount, Is.EqualTo((n + 6) / 7));
        Assert.That(back.Columns["x"][n - 1], Is.EqualTo((n - 1) * 0.5));
    }

    internal static PyObject PythonWith(PyObject df)
    {
        var globals = Tests.Python.PythonFixture.Run("import numpy as np, pandas as pd");
        globals["df"] = df;
        return globals;
    }
}
