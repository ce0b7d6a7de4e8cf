using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Analysis;
using PyMpiBridge.Python;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// How the columns of one element type cross: a <see cref="PrimitiveDataFrameColumn{T}"/>'s buffers copied or shown to
/// numpy, and numpy memory wrapped as such a column. One instance per element type: every canonical entry of the
/// element-type table (<see cref="ElementType"/>: the numeric types and bool, with their numpy dtypes) plus
/// <see cref="DateTime"/>, which numpy sees as its int64 bits and the pandas side turns into datetime64[ns].
/// </summary>
internal abstract class ColumnCodec
{
    private static readonly Dictionary<Type, ColumnCodec> s_codecs = Create();

    /// <summary>The codec of a column's element type, or null when the type has no pandas form.</summary>
    public static ColumnCodec? For(Type elementType) => s_codecs.GetValueOrDefault(elementType);

    /// <summary>The element types that cross, for error messages.</summary>
    public static string Names => string.Join(", ", s_codecs.Keys.Select(t => t.Name)) + ", String";

    private static Dictionary<Type, ColumnCodec> Create()
    {
        var codecs = new Dictionary<Type, ColumnCodec>();
        foreach (var element in ElementType.All.Where(e => e.Canonical))
            codecs[element.Type] = (ColumnCodec)Activator.CreateInstance(typeof(ColumnCodec<,>).MakeGenericType(element.Type, element.Type))!;
        codecs[typeof(DateTime)] = new ColumnCodec<DateTime, long>();
        return codecs;
    }

    public abstract bool IsDateTime { get; }

    /// <summary>The column's validity bitmaps with the number of values each covers (one per buffer).</summary>
    public abstract IEnumerable<(ReadOnlyMemory<byte> Bitmap, int Count)> Bitmaps(DataFrameColumn column);

    /// <summary>The column's values in one buffer, when they fit in one (otherwise null).</summary>
    public abstract bool HasOneBuffer(DataFrameColumn column);

    /// <summary>A read-only numpy array over the column's single buffer (no copy). Caller holds the GIL.</summary>
    public abstract PyObject Share(DataFrameColumn column);

    /// <summary>
    /// A new numpy array of shape (columns.Count, rows) (1-D when <paramref name="oneDimensional"/>) holding a copy
    /// of each column in a row: one block copy per buffer. Caller holds the GIL.
    /// </summary>
    public abstract PyObject Copy(IReadOnlyList<DataFrameColumn> columns, long rows, bool oneDimensional);

    /// <summary>Rows [start, start + count) of the column as a new array of its numpy element type (one copy per buffer).</summary>
    public abstract Array ToArray(DataFrameColumn column, long start, int count);

    /// <summary>The validity bitmap (LSB first, 1 = valid) of rows [start, start + count), packed from bit 0.</summary>
    public abstract byte[] Validity(DataFrameColumn column, long start, int count);

    /// <summary>The parts one after the other in a new column (one copy per buffer; nulls kept).</summary>
    public abstract DataFrameColumn Concat(string name, IReadOnlyList<DataFrameColumn> parts);

    /// <summary>A column over <paramref name="values"/> (the bytes of <paramref name="length"/> elements), without copying.</summary>
    public abstract DataFrameColumn Wrap(string name, ReadOnlyMemory<byte> values, ReadOnlyMemory<byte> bitmap, int length, int nullCount);
}

/// <summary>The codec of columns of <typeparamref name="T"/>, shown to numpy as <typeparamref name="TNumpy"/> (same size).</summary>
internal sealed class ColumnCodec<T, TNumpy> : ColumnCodec where T : unmanaged where TNumpy : unmanaged
{
    private delegate DataFrameColumn Wrapper(string name, ReadOnlyMemory<byte> values, ReadOnlyMemory<byte> bitmap, int length, int nullCount);

    /// <summary>
    /// The named column classes Microsoft.Data.Analysis has (what its own readers make, e.g. LoadCsv): a column of
    /// pandas float64 arrives as a <see cref="DoubleDataFrameColumn"/>. Element types without one (Half, complex)
    /// use <see cref="PrimitiveDataFrameColumn{T}"/> itself.
    /// </summary>
    private static readonly Dictionary<Type, Delegate> NamedColumns = new()
    {
        [typeof(sbyte)] = (Wrapper)((n, v, b, l, c) => new SByteDataFrameColumn(n, v, b, l, c)),
        [typeof(byte)] = (Wrapper)((n, v, b, l, c) => new ByteDataFrameColumn(n, v, b, l, c)),
        [typeof(short)] = (Wrapper)((n, v, b, l, c) => new Int16DataFrameColumn(n, v, b, l, c)),
        [typeof(ushort)] = (Wrapper)((n, v, b, l, c) => new UInt16DataFrameColumn(n, v, b, l, c)),
        [typeof(int)] = (Wrapper)((n, v, b, l, c) => new Int32DataFrameColumn(n, v, b, l, c)),
        [typeof(uint)] = (Wrapper)((n, v, b, l, c) => new UInt32DataFrameColumn(n, v, b, l, c)),
        [typeof(long)] = (Wrapper)((n, v, b, l, c) => new Int64DataFrameColumn(n, v, b, l, c)),
        [typeof(ulong)] = (Wrapper)((n, v, b, l, c) => new UInt64DataFrameColumn(n, v, b, l, c)),
        [typeof(float)] = (Wrapper)((n, v, b, l, c) => new SingleDataFrameColumn(n, v, b, l, c)),
        [typeof(double)] = (Wrapper)((n, v, b, l, c) => new DoubleDataFrameColumn(n, v, b, l, c)),
        [typeof(bool)] = (Wrapper)((n, v, b, l, c) => new BooleanDataFrameColumn(n, v, b, l, c)),
        [typeof(DateTime)] = (Wrapper)((n, v, b, l, c) => new DateTimeDataFrameColumn(n, v, b, l, c)),
    };

    private static readonly Wrapper s_wrap = NamedColumns.TryGetValue(typeof(T), out var named)
        ? (Wrapper)named
        : (n, v, b, l, c) => new PrimitiveDataFrameColumn<T>(n, v, b, l, c);

    public override bool IsDateTime => typeof(T) == typeof(DateTime);

    private static PrimitiveDataFrameColumn<T> Typed(DataFrameColumn column) => (PrimitiveDataFrameColumn<T>)column;

    public override IEnumerable<(ReadOnlyMemory<byte> Bitmap, int Count)> Bitmaps(DataFrameColumn column)
        => Typed(column).GetReadOnlyNullBitMapBuffers().Zip(Typed(column).GetReadOnlyDataBuffers(), (bits, values) => (bits, values.Length));

    public override bool HasOneBuffer(DataFrameColumn column) => Typed(column).GetReadOnlyDataBuffers().Take(2).Count() <= 1;

    public override PyObject Share(DataFrameColumn column)
    {
        ReadOnlyMemory<T> values = Typed(column).GetReadOnlyDataBuffers().FirstOrDefault();
        return PyArray.FromReadOnly(Reinterpret(values));
    }

    public override PyObject Copy(IReadOnlyList<DataFrameColumn> columns, long rows, bool oneDimensional)
    {
        long count = columns.Count * rows;
        long[] shape = oneDimensional ? [rows] : [columns.Count, rows];
        if (count > int.MaxValue)
        {
            // Beyond what one Memory<T> spans (a column of several 2 GiB buffers): native memory of its own.
            using var large = new NativeBuffer<TNumpy>(count, zero: false); // the .NET side lets go here; numpy keeps it alive
            CopyColumns(columns, rows, (offset, length) => large.Slice(offset, length));
            return PyArray.From(large, shape);
        }
        var block = NativeMemoryPool.Rent<TNumpy>((int)count);
        try
        {
            CopyColumns(columns, rows, (offset, length) => block.GetSpan().Slice((int)offset, length));
            return PyArray.From(block.Memory, shape);
        }
        catch
        {
            ((IDisposable)block).Dispose();
            throw;
        }
    }

    private delegate Span<TNumpy> Destination(long offset, int length);

    /// <summary>Column c goes to elements [c × rows, (c + 1) × rows), one block copy per buffer.</summary>
    private static void CopyColumns(IReadOnlyList<DataFrameColumn> columns, long rows, Destination destination)
    {
        for (int c = 0; c < columns.Count; c++)
        {
            long offset = c * rows;
            foreach (ReadOnlyMemory<T> values in Typed(columns[c]).GetReadOnlyDataBuffers())
            {
                MemoryMarshal.Cast<T, TNumpy>(values.Span).CopyTo(destination(offset, values.Length));
                offset += values.Length;
            }
        }
    }

    public override Array ToArray(DataFrameColumn column, long start, int count)
    {
        var result = new TNumpy[count];
        long offset = 0; // of the current buffer in the column
        foreach (ReadOnlyMemory<T> values in Typed(column).GetReadOnlyDataBuffers())
        {
            long from = Math.Max(start, offset), to = Math.Min(start + count, offset + values.Length);
            if (from < to)
                MemoryMarshal.Cast<T, TNumpy>(values.Span.Slice((int)(from - offset), (int)(to - from))).CopyTo(result.AsSpan((int)(from - start)));
            offset += values.Length;
        }
        return result;
    }

    public override byte[] Validity(DataFrameColumn column, long start, int count)
    {
        var bits = new byte[(count + 7) / 8];
        long offset = 0;
        foreach (var (bitmap, length) in Bitmaps(column))
        {
            ReadOnlySpan<byte> source = bitmap.Span;
            long from = Math.Max(start, offset), to = Math.Min(start + count, offset + length);
            for (long row = from; row < to; row++)
            {
                int i = (int)(row - offset), j = (int)(row - start);
                if ((source[i >> 3] >> (i & 7) & 1) != 0) bits[j >> 3] |= (byte)(1 << (j & 7));
            }
            offset += length;
        }
        return bits;
    }

    public override DataFrameColumn Concat(string name, IReadOnlyList<DataFrameColumn> parts)
    {
        long total = parts.Sum(p => p.Length);
        int size = Unsafe.SizeOf<T>();
        if (total * size > int.MaxValue)
            throw new DataFrameConversionException($"column '{name}' would have {total:N0} rows, more than one Microsoft.Data.Analysis buffer holds ({int.MaxValue / size:N0}); gather fewer rows.");
        var values = new byte[total * size];
        var bits = new byte[(total + 7) / 8];
        long row = 0, nulls = 0;
        foreach (var part in parts)
        {
            MemoryMarshal.AsBytes(((TNumpy[])ToArray(part, 0, (int)part.Length)).AsSpan()).CopyTo(values.AsSpan((int)(row * size)));
            byte[] valid = Validity(part, 0, (int)part.Length);
            for (int i = 0; i < part.Length; i++, row++)
                if ((valid[i >> 3] >> (i & 7) & 1) != 0) bits[row >> 3] |= (byte)(1 << (int)(row & 7));
            nulls += part.NullCount;
        }
        return Wrap(name, values, bits, (int)total, (int)nulls);
    }

    private static ReadOnlyMemory<TNumpy> Reinterpret(ReadOnlyMemory<T> values)
        => typeof(T) == typeof(TNumpy) ? (ReadOnlyMemory<TNumpy>)(object)values
            : throw new NotSupportedException($"{typeof(T).Name} columns are copied, not shared."); // DateTime: pandas needs other bits

    public override DataFrameColumn Wrap(string name, ReadOnlyMemory<byte> values, ReadOnlyMemory<byte> bitmap, int length, int nullCount)
        => s_wrap(name, values, bitmap, length, nullCount);
}
