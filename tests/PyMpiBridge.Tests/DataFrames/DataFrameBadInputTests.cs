using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Python;
using static PyMpiBridge.Tests.DataFrames.PandasToDataFrameTests;

namespace PyMpiBridge.Tests.DataFrames;

/// <summary>Frames that cannot cross as given: a clear error naming the column and the fix, nothing truncated.</summary>
public class DataFrameBadInputTests
{
    private static DataFrameConversionException FromPandas(string code)
    {
        using var gil = Py.Gil();
        using var df = Pandas(code);
        return Assert.Throws<DataFrameConversionException>(() => df.ToDataFrame())!;
    }

    [Test]
    public void MixedTypeObjectColumn_IsRefused_NamingTheColumnAndTheTypesFound()
    {
        var e = FromPandas("df = pd.DataFrame({'ok': [1, 2, 3], 'mixed': ['a', 2, 3.5]})");
        Assert.That(e.Message, Does.Contain("column 'mixed'").And.Contain("float, int, str").And.Contain("astype(str)"));
    }

    [Test]
    public void ObjectColumnOfOtherPythonObjects_IsRefused()
    {
        var e = FromPandas("df = pd.DataFrame({'d': [{'k': 1}, {'k': 2}]})");
        Assert.That(e.Message, Does.Contain("column 'd'").And.Contain("dict"));
    }

    [Test]
    public void TimedeltaColumn_IsRefused_WithTheConversionToUse()
    {
        var e = FromPandas("df = pd.DataFrame({'d': pd.to_timedelta([1, 2], unit='s')})");
        Assert.That(e.Message, Does.Contain("column 'd'").And.Contain("timedelta64").And.Contain("pd.Timedelta"));
    }

    [Test]
    public void SeriesInsteadOfADataFrame_IsRefused_SuggestingToFrame()
    {
        var e = FromPandas("df = pd.Series([1.0, 2.0], name='x')");
        Assert.That(e.Message, Does.Contain("pandas.core.series.Series").And.Contain("to_frame()"));
    }

    [Test]
    public void IndexNamedLikeAColumn_IsRefused_AsADuplicateName()
    {
        var e = FromPandas("df = pd.DataFrame({'k': [1, 2]}, index=pd.Index([5, 6], name='k'))");
        Assert.That(e.Message, Does.Contain("two columns are named 'k'"));
    }

    [Test]
    public void ColumnLargerThanOneBuffer_IsRefused_BeforeAnyDataIsRead_SayingHowToSplit()
    {
        // 300 M float64 rows that occupy no memory (a stride-0 view): the check comes before anything is copied.
        var e = FromPandas("df = pd.DataFrame(np.broadcast_to(np.float64(1), (300_000_000, 1)), columns=['big'], copy=False)");
        Assert.That(e.Message, Does.Contain("column 'big' has 300,000,000 rows of float64").And.Contain("268,435,455").And.Contain("df.iloc[start:stop]"));
    }

    [Test]
    public void DecimalAndCharColumns_AreRefused_SayingWhatToConvertTo()
    {
        var decimals = new DataFrame(new DoubleDataFrameColumn("ok", [1.0]), new DecimalDataFrameColumn("price", [1.5m]));
        var e = Assert.Throws<DataFrameConversionException>(() => decimals.ToPandas())!;
        Assert.That(e.Message, Does.Contain("column 'price' holds Decimal").And.Contain("decimal: to double"));
        var chars = new DataFrame(new CharDataFrameColumn("letter", ['a']));
        e = Assert.Throws<DataFrameConversionException>(() => chars.ToPandas())!;
        Assert.That(e.Message, Does.Contain("column 'letter' holds Char").And.Contain("char: to string"));
    }

    [Test]
    public void ColumnsOfDifferentLengths_AreRefused()
    {
        var a = new DoubleDataFrameColumn("a", [1.0, 2]);
        var frame = new DataFrame(a, new DoubleDataFrameColumn("b", [3.0, 4]));
        a.Append(5.0); // a column grown on its own: the frame's columns no longer agree
        var e = Assert.Throws<DataFrameConversionException>(() => frame.ToPandas())!;
        Assert.That(e.Message, Does.Contain("column 'a' has 3 values but the DataFrame has 2 rows"));
    }

    [Test]
    public void DateTimeOutsideTheDatetime64Range_IsRefused()
    {
        var frame = new DataFrame(new DateTimeDataFrameColumn("t", [new DateTime(2020, 1, 1), DateTime.MaxValue]));
        var e = Assert.Throws<DataFrameConversionException>(() => frame.ToPandas())!;
        Assert.That(e.Message, Does.Contain("1677-09-21 to 2262-04-11"));
    }

    [Test]
    public void ColumnOfSeveralBuffers_ReachesPandasWhole_NothingTruncated()
    {
        // Microsoft.Data.Analysis splits a column into buffers of at most 2 GiB: 268,435,455 float64 values each. A
        // column one value longer has two buffers; pandas gets one array with every value (and missing value) in place.
        const long rows = 268_435_455L + 2;
        var column = new DoubleDataFrameColumn("x", rows); // all missing, allocated without a per-value loop
        column[0] = 1.5;
        column[rows - 1] = 2.5;
        Assert.That(column.GetReadOnlyDataBuffers().Count(), Is.EqualTo(2), "the test needs a column of two buffers");
        using var gil = Py.Gil();
        using (var df = new DataFrame(column).ToPandas())
        {
            using var seen = Py.Eval("(len(df), float(df['x'].iloc[0]), float(df['x'].iloc[-1]), int(df['x'].notna().sum()), str(df['x'].dtype))",
                DataFrameToPandasTests.PythonWith(df));
            Assert.That(seen[0].As<long>(), Is.EqualTo(rows));
            Assert.That(seen[1].As<double>(), Is.EqualTo(1.5));
            Assert.That(seen[2].As<double>(), Is.EqualTo(2.5));
            Assert.That(seen[3].As<long>(), Is.EqualTo(2));
            Assert.That(seen[4].As<string>(), Is.EqualTo("Float64"));
        }
        Py.Exec("import gc; gc.collect()");
    }
}
