using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Python;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// DataFrame hand-offs for <c>bench python</c> (issue 10): <c>dataframe_to_pandas</c> and <c>pandas_to_dataframe</c> for
/// 1 Mi rows × 8 float64 columns (64 MiB of numbers), and with one more string column (<c>..._with_str</c>). Beside each,
/// in the same run: <c>memcpy</c> of the numeric bytes into memory written before (the baseline), <c>alloc_memcpy</c>
/// (the same copy into freshly allocated memory: what any conversion producing new columns pays for first touching its
/// pages, very costly on this VM) and <c>per_element</c> (every value through a Python object, as pythonnet users
/// convert). Ours: <c>csharp</c> (defaults: pandas → C# wraps pandas' memory; C# → pandas one block copy per column) and
/// <c>csharp_shared</c> (C# → pandas with ShareMemory: read-only views, no copy). pandas → C# is also measured at 1 Ki
/// rows to show it does not grow with rows.
/// </summary>
internal static class DataFrameBench
{
    private const int Rows = 1 << 20, Columns = 8, SmallRows = 1 << 10;
    private const long NumericBytes = (long)Rows * Columns * sizeof(double);

    public static void Run(List<BenchRecord> records)
    {
        var frame = NumericFrame(Rows);
        var withStrings = NumericFrame(Rows);
        withStrings.Columns.Add(new StringDataFrameColumn("name", Enumerable.Range(0, Rows).Select(i => $"item {i % 5000}")));
        PyObject pandas, pandasWithStrings, pandasSmall;
        using (Py.Gil())
        {
            pandas = frame.ToPandas();
            pandasWithStrings = withStrings.ToPandas();
            pandasSmall = NumericFrame(SmallRows).ToPandas();
        }

        var (memcpy, allocMemcpy) = Memcpy(frame);
        foreach (string name in new[] { "dataframe_to_pandas", "pandas_to_dataframe", "dataframe_to_pandas_with_str", "pandas_to_dataframe_with_str" })
        {
            records.Add(new(name, "memcpy", NumericBytes, "us", memcpy));
            records.Add(new(name, "alloc_memcpy", NumericBytes, "us", allocMemcpy));
        }

        records.Add(new("dataframe_to_pandas", "csharp", NumericBytes, "us", Us(() => frame.ToPandas())));
        records.Add(new("dataframe_to_pandas", "csharp_shared", NumericBytes, "us",
            Us(() => frame.ToPandas(new DataFrameConversionOptions { ShareMemory = true }))));
        records.Add(new("dataframe_to_pandas", "per_element", NumericBytes, "us", SlowUs(() => PerElementToPandas(frame))));
        records.Add(new("dataframe_to_pandas_with_str", "csharp", NumericBytes, "us", SlowUs(() => withStrings.ToPandas())));
        records.Add(new("dataframe_to_pandas_with_str", "csharp_shared", NumericBytes, "us",
            SlowUs(() => withStrings.ToPandas(new DataFrameConversionOptions { ShareMemory = true }))));

        records.Add(new("pandas_to_dataframe", "csharp", NumericBytes, "us", Us(() => pandas.ToDataFrame())));
        records.Add(new("pandas_to_dataframe", "csharp", (long)SmallRows * Columns * sizeof(double), "us", Us(() => pandasSmall.ToDataFrame())));
        records.Add(new("pandas_to_dataframe", "per_element", NumericBytes, "us", SlowUs(() => PerElementToDataFrame(pandas))));
        records.Add(new("pandas_to_dataframe_with_str", "csharp", NumericBytes, "us", SlowUs(() => pandasWithStrings.ToDataFrame())));

        using (Py.Gil())
            foreach (var o in new[] { pandas, pandasWithStrings, pandasSmall }) o.Dispose();
    }

    private static DataFrame NumericFrame(int rows)
    {
        var random = new Random(10);
        return new DataFrame(Enumerable.Range(0, Columns).Select(c =>
            (DataFrameColumn)new DoubleDataFrameColumn($"c{c}", Enumerable.Range(0, rows).Select(_ => random.NextDouble()))));
    }

    /// <summary>A conversion's time with the GIL taken, the result released (and collected by Python) inside the timing.</summary>
    private static double Us(Func<object> convert) => PythonBenchSuite.MicrosecondsPerIteration(() =>
    {
        using var gil = Py.Gil();
        if (convert() is IDisposable d) d.Dispose();
    });

    /// <summary>For conversions of a second or more: the median of three runs after one warm-up.</summary>
    private static double SlowUs(Func<object> convert)
    {
        var times = new double[3];
        for (int r = -1; r < times.Length; r++)
        {
            var watch = Stopwatch.StartNew();
            using (Py.Gil())
                if (convert() is IDisposable d) d.Dispose();
            if (r >= 0) times[r] = watch.Elapsed.TotalMicroseconds;
        }
        Array.Sort(times);
        return times[1];
    }

    /// <summary>The numeric bytes copied column by column: into memory written before, and into fresh memory.</summary>
    private static unsafe (double Warm, double Fresh) Memcpy(DataFrame frame)
    {
        var sources = frame.Columns.Cast<DoubleDataFrameColumn>().Select(c => c.GetReadOnlyDataBuffers().Single()).ToArray();
        byte* destination = (byte*)NativeMemory.AlignedAlloc((nuint)NumericBytes, 64);
        NativeMemory.Fill(destination, (nuint)NumericBytes, 1);
        void CopyInto(byte* target)
        {
            long offset = 0;
            foreach (var source in sources)
            {
                var bytes = MemoryMarshal.AsBytes(source.Span);
                bytes.CopyTo(new Span<byte>(target + offset, bytes.Length));
                offset += bytes.Length;
            }
        }
        double warm = PythonBenchSuite.MicrosecondsPerIteration(() => CopyInto(destination));
        double fresh = PythonBenchSuite.MicrosecondsPerIteration(() =>
        {
            byte* target = (byte*)NativeMemory.AlignedAlloc((nuint)NumericBytes, 64);
            CopyInto(target);
            NativeMemory.AlignedFree(target);
        });
        NativeMemory.AlignedFree(destination);
        return (warm, fresh);
    }

    /// <summary>Every value becomes a Python float in a list, and pandas builds the frame from the lists.</summary>
    private static PyObject PerElementToPandas(DataFrame frame)
    {
        var lists = new Dictionary<string, object?>();
        foreach (var column in frame.Columns)
        {
            var values = new List<object?>((int)column.Length);
            foreach (object? v in column) values.Add(v);
            lists[column.Name] = values;
        }
        using var pd = Py.Import("pandas");
        return pd.CallMethod("DataFrame", lists);
    }

    /// <summary>Every value is read as a Python float (Series.tolist) and converted to a double.</summary>
    private static DataFrame PerElementToDataFrame(PyObject pandas)
    {
        var columns = new List<DataFrameColumn>();
        using var names = pandas.GetAttr("columns");
        foreach (var name in names)
            using (name)
            using (var series = pandas.GetItem(name))
            using (var list = series.CallMethod("tolist"))
                columns.Add(new DoubleDataFrameColumn(name.As<string>(), list.As<double[]>()));
        return new DataFrame(columns);
    }
}
