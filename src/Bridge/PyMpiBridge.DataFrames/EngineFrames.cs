using System.Numerics;
using Microsoft.Data.Analysis;
using PyMpiBridge.Parallel;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// DataFrames to and from engines with the C# parallel client (no Python in the client): <c>view.PushAsync("df", frame)</c>
/// gives each engine a pandas DataFrame, <c>view.PullAsync&lt;DataFrame&gt;("df")</c> brings engines' pandas frames back,
/// and <see cref="ScatterRowsAsync"/> / <see cref="GatherRowsAsync"/> split and join by rows. The engine side is
/// <c>pympibridge._dataframes</c>: a pushed frame is pickled as a call of its <c>build()</c> with the columns as numpy
/// arrays (their bytes out of band), a pulled one is taken apart by its <c>describe()</c> and wrapped here without a
/// further copy. Columns as in a rank (see <see cref="PandasConversion"/>), except Half and Complex32, which the client's
/// pickler does not carry.
/// </summary>
public static class EngineFrames
{
    private const string PullFunction = "_pympibridge_pull_frame";

    private static readonly string PullSource = $$"""
        def {{PullFunction}}(name):
            from pympibridge._dataframes import describe
            return describe(globals()[name], {{int.MaxValue}}, False)
        """;

    /// <summary>Registers DataFrame with <see cref="EngineConverters"/> (done with the other conversions).</summary>
    internal static void Register() => EngineConverters.Register<DataFrame>(
        frame => ToEngine(frame, 0, checked((int)frame.Rows.Count)), PullSource, PullFunction,
        described => PandasConversion.FromDescribed((object?[])described!, o => (byte[])o));

    /// <summary>Rows [start, start + count) as a call of <c>pympibridge._dataframes.build</c> (what a push pickles).</summary>
    internal static PickleReduction ToEngine(DataFrame frame, long start, int count)
    {
        PandasConversion.CheckLengths(frame);
        var blocks = new List<object?>();
        var singles = new List<object?>();
        for (int i = 0; i < frame.Columns.Count; i++)
        {
            DataFrameColumn column = frame.Columns[i];
            if (column is StringDataFrameColumn or ArrowStringDataFrameColumn)
            {
                singles.Add(new PythonTuple(i, "s", PandasConversion.Strings(column).Skip((int)start).Take(count).ToList(), null));
                continue;
            }
            var codec = PandasConversion.CodecOf(column);
            if (column.DataType == typeof(Half) || column.DataType == typeof(Complex32))
                throw new DataFrameConversionException(
                    $"column '{column.Name}' holds {column.DataType.Name} values, which the parallel client does not send to engines; " +
                    "convert it to float (Single) or Complex first.");
            Array values = codec.ToArray(column, start, count);
            bool nulls = column.NullCount > 0;
            if (codec.IsDateTime || nulls)
            {
                object? chunks = nulls ? new List<object?> { new PythonTuple(codec.Validity(column, start, count), count) } : null;
                singles.Add(new PythonTuple(i, codec.IsDateTime ? "t" : "m", values, chunks));
            }
            else blocks.Add(new PythonTuple(values, new List<object?> { i }));
        }
        return new PickleReduction(PandasModule.Name, "build",
            frame.Columns.Select(c => (object?)c.Name).ToList(), (long)count, blocks, singles, false);
    }

    /// <summary>
    /// Splits <paramref name="frame"/> by rows over the view's engines as ipyparallel's scatter does (the first
    /// rows % engines get one more row) and sets <paramref name="name"/> to each part, a pandas DataFrame.
    /// </summary>
    public static Task ScatterRowsAsync(this DirectView view, string name, DataFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var targets = view.Targets;
        long rows = frame.Rows.Count, q = rows / targets.Count, r = rows % targets.Count;
        var pushes = new List<Task>();
        long start = 0;
        for (int i = 0; i < targets.Count; i++)
        {
            int count = checked((int)(q + (i < r ? 1 : 0)));
            pushes.Add(view.Client[targets[i]].PushAsync(name, ToEngine(frame, start, count)).AsTask());
            start += count;
        }
        return Task.WhenAll(pushes);
    }

    /// <summary>Pulls the pandas DataFrame <paramref name="name"/> from every engine of the view and joins them by rows, in engine order.</summary>
    public static async Task<DataFrame> GatherRowsAsync(this DirectView view, string name)
    {
        DataFrame[] parts = await view.PullAsync<DataFrame>(name);
        return Concatenate(parts, name);
    }

    /// <summary>The rows of <paramref name="parts"/> one after the other; the parts must have the same columns.</summary>
    internal static DataFrame Concatenate(IReadOnlyList<DataFrame> parts, string what)
    {
        if (parts.Count == 0) return new DataFrame();
        var first = parts[0];
        foreach (var part in parts)
            if (!part.Columns.Select(c => (c.Name, c.DataType)).SequenceEqual(first.Columns.Select(c => (c.Name, c.DataType))))
                throw new DataFrameConversionException(
                    $"the parts of '{what}' do not have the same columns ({Describe(first)} versus {Describe(part)}); gather frames of one schema.");
        var columns = new List<DataFrameColumn>();
        for (int c = 0; c < first.Columns.Count; c++)
        {
            var pieces = parts.Select(p => p.Columns[c]).ToList();
            columns.Add(pieces[0] is StringDataFrameColumn or ArrowStringDataFrameColumn
                ? new StringDataFrameColumn(pieces[0].Name, pieces.SelectMany(PandasConversion.Strings))
                : PandasConversion.CodecOf(pieces[0]).Concat(pieces[0].Name, pieces));
        }
        return new DataFrame(columns);
    }

    private static string Describe(DataFrame frame) => string.Join(", ", frame.Columns.Select(c => $"{c.Name}: {c.DataType.Name}"));
}
