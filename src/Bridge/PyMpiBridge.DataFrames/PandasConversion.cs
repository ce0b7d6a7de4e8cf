using Microsoft.Data.Analysis;
using PyMpiBridge.Python;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// Microsoft.Data.Analysis <see cref="DataFrame"/> ↔ pandas <c>DataFrame</c>, column by column, names and order kept.
/// <list type="bullet">
/// <item>pandas → C# (<see cref="ToDataFrame"/>): numeric and bool columns WRAP pandas' memory (no copy; the column keeps
/// the pandas data alive for as long as it lives, and copies it on its first change); datetime64 columns convert to
/// DateTime in one vectorized pass; str columns are copied string by string.</item>
/// <item>C# → pandas (<see cref="ToPandas"/>): one block copy per numeric column into pandas' own consolidated blocks
/// (writable, as pandas made them), or with <see cref="DataFrameConversionOptions.ShareMemory"/> read-only views of
/// the C# memory without copying.</item>
/// </list>
/// Column types: sbyte…ulong, Half, float, double, Complex32, Complex, bool, DateTime (↔ datetime64[ns], 100 ns
/// precision, the Kind is not kept: tz-aware pandas times arrive as UTC DateTimes) and string (↔ object columns of
/// str). Missing values ↔ nulls (see <see cref="DataFrameConversionOptions"/> for NaN). The index: a RangeIndex is
/// dropped, any other index becomes leading column(s) named after its levels ("index" when unnamed); non-string
/// column names become their str(). Anything else raises <see cref="DataFrameConversionException"/> naming the column.
/// </summary>
public static class PandasConversion
{
    /// <summary>The pandas DataFrame of <paramref name="frame"/> (a new reference; takes the GIL if this thread lacks it).</summary>
    /// <exception cref="DataFrameConversionException">A column type pandas cannot take, or columns of different lengths.</exception>
    public static PyObject ToPandas(this DataFrame frame, DataFrameConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        options ??= DataFrameConversionOptions.Default;
        long rows = frame.Rows.Count;
        var names = new List<string>(frame.Columns.Count);
        var singles = new List<object?>();
        var blocks = new List<object?>();
        var groups = new Dictionary<ColumnCodec, (List<DataFrameColumn> Columns, List<int> Positions)>();
        CheckLengths(frame);
        using var gil = Py.Gil();
        try
        {
            for (int i = 0; i < frame.Columns.Count; i++)
            {
                DataFrameColumn column = frame.Columns[i];
                names.Add(column.Name);
                if (column is StringDataFrameColumn or ArrowStringDataFrameColumn)
                {
                    singles.Add((i, "s", Strings(column), (object?)null));
                    continue;
                }
                var codec = CodecOf(column);
                bool share = options.ShareMemory && !codec.IsDateTime && codec.HasOneBuffer(column);
                if (codec.IsDateTime || column.NullCount > 0)
                {
                    PyObject values = share ? codec.Share(column) : codec.Copy([column], rows, oneDimensional: true);
                    singles.Add((i, codec.IsDateTime ? "t" : "m", values, column.NullCount > 0 ? Bitmaps(codec, column) : null));
                }
                else if (share)
                    blocks.Add((codec.Share(column), new[] { i }));
                else
                {
                    if (!groups.TryGetValue(codec, out var group)) groups[codec] = group = ([], []);
                    group.Columns.Add(column);
                    group.Positions.Add(i);
                }
            }
            foreach (var (codec, group) in groups)
                blocks.Add((codec.Copy(group.Columns, rows, oneDimensional: false), group.Positions));
            return PandasModule.Call("build", names, rows, blocks, singles, options.NullsAsNaN);
        }
        finally
        {
            DisposeAll(blocks);
            DisposeAll(singles);
        }
    }

    /// <summary>
    /// The Microsoft.Data.Analysis DataFrame of a pandas DataFrame; numeric columns wrap pandas' memory without copying.
    /// Takes the GIL if this thread lacks it.
    /// </summary>
    /// <exception cref="DataFrameConversionException">Not a pandas DataFrame, or a column that has no C# form (the message names it).</exception>
    public static DataFrame ToDataFrame(this PyObject pandasFrame, DataFrameConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pandasFrame);
        options ??= DataFrameConversionOptions.Default;
        using var gil = Py.Gil();
        using var described = PandasModule.Call("describe", pandasFrame, int.MaxValue, options.NaNAsNull);
        return FromDescribed(described.As<object?[]>(), o => PyBuffer<byte>.Get((PyObject)o).ReadOnlyMemory);
    }

    /// <summary>
    /// The DataFrame of what <c>describe()</c> returned, converted to .NET objects: (rows, [(name, code, kind, itemsize,
    /// values, bitmap, nulls)]). <paramref name="bytesOf"/> gives the memory of a values or bitmap object (a numpy array
    /// in this process, or the byte[] an engine sent), which the column then wraps.
    /// </summary>
    internal static DataFrame FromDescribed(object?[] described, Func<object, ReadOnlyMemory<byte>> bytesOf)
    {
        int rows = checked((int)(long)described[0]!); // every column was checked against one buffer's size
        var columns = new List<DataFrameColumn>();
        try
        {
            foreach (object?[] entry in ((List<object?>)described[1]!).Cast<object?[]>())
                columns.Add(Column(entry, rows, bytesOf));
        }
        finally
        {
            foreach (var entry in ((List<object?>)described[1]!).Cast<object?[]>())
                foreach (var item in entry) (item as IDisposable)?.Dispose();
        }
        return new DataFrame(columns);
    }

    /// <summary>One column from (name, code, kind, itemsize, values, bitmap, nulls).</summary>
    private static DataFrameColumn Column(object?[] entry, int rows, Func<object, ReadOnlyMemory<byte>> bytesOf)
    {
        var (name, code, values, bitmap, nulls) = ((string)entry[0]!, (string)entry[1]!, entry[4], entry[5], (long)entry[6]!);
        if (code == "s")
            return new StringDataFrameColumn(name, ((List<object?>)values!).Cast<string?>());
        var element = code == "t" ? typeof(DateTime)
            : ElementType.CanonicalOf(((string)entry[2]!)[0], (long)entry[3]!)?.Type
              ?? throw new DataFrameConversionException($"column '{name}' has numpy kind '{entry[2]}' of {entry[3]} bytes, which has no .NET element type.");
        // Views of Python memory own their buffer exports: the column keeps the pandas data alive, and releases it when collected.
        ReadOnlyMemory<byte> valid = bitmap is null ? AllValidBitmap.For(rows) : bytesOf(bitmap);
        return ColumnCodec.For(element)!.Wrap(name, bytesOf(values!), valid, rows, (int)nulls);
    }

    /// <summary>The codec of a (non-string) column, or the error saying what to convert it to.</summary>
    internal static ColumnCodec CodecOf(DataFrameColumn column) => ColumnCodec.For(column.DataType) ?? throw new DataFrameConversionException(
        $"column '{column.Name}' holds {column.DataType.Name} values, which have no pandas column here; convert it to one of " +
        $"{ColumnCodec.Names} first (decimal: to double; char: to string).");

    /// <summary>Every column has the frame's row count (a column appended to on its own breaks that).</summary>
    internal static void CheckLengths(DataFrame frame)
    {
        long rows = frame.Rows.Count;
        foreach (var column in frame.Columns)
            if (column.Length != rows)
                throw new DataFrameConversionException(
                    $"column '{column.Name}' has {column.Length} values but the DataFrame has {rows} rows (a column was appended " +
                    "to on its own?); make every column the same length before converting.");
    }

    internal static List<string?> Strings(DataFrameColumn column)
    {
        var strings = new List<string?>(checked((int)column.Length));
        foreach (object? value in column) strings.Add((string?)value);
        return strings;
    }

    private static List<(PyObject, int)> Bitmaps(ColumnCodec codec, DataFrameColumn column)
        => codec.Bitmaps(column).Select(b => (PyArray.FromReadOnly(b.Bitmap), b.Count)).ToList();

    /// <summary>Releases the numpy arrays made for the call (pandas holds its own references to those it kept).</summary>
    private static void DisposeAll(IEnumerable<object?> items)
    {
        foreach (object? item in items)
        {
            switch (item)
            {
                case IDisposable d: d.Dispose(); break;
                case System.Runtime.CompilerServices.ITuple t:
                    for (int i = 0; i < t.Length; i++)
                        if (t[i] is IDisposable d2) d2.Dispose();
                        else if (t[i] is IEnumerable<(PyObject, int)> list) foreach (var (o, _) in list) o.Dispose();
                    break;
            }
        }
    }
}
