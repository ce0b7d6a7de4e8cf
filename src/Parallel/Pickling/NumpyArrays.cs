using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using PyMpiBridge.Parallel.Wire;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>
/// numpy arrays and scalars rebuilt as .NET arrays and primitives (one copy out of the received bytes), or as
/// <see cref="NdArray{T}"/>s over the received memory (no copy when it came as a memory file).
/// </summary>
internal static class NumpyArrays
{
    /// <summary>An array of <paramref name="dtype"/> and <paramref name="shape"/> over <paramref name="data"/> in
    /// <paramref name="order"/> ('C' row-major or 'F' column-major): 1-D → <c>T[]</c>, N-d → <c>T[,…]</c> (row-major),
    /// 0-d → the value itself.</summary>
    public static object FromBuffer(ReceivedPart data, (string Code, string Order) dtype, int[] shape, string order)
    {
        var (element, size, count) = Check(data, dtype, shape);
        Array array = shape.Length switch
        {
            0 => Array.CreateInstance(element, 1),
            1 => Elements.Of(element).Uninitialized(shape[0]), // every byte is written below: no need to zero it first
            _ => Array.CreateInstance(element, shape),
        };
        var target = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), checked((int)(count * size)));
        LargePages.Advise(target); // before the first write: 2 MiB pages fault in 512 times faster
        if (order == "F" && shape.Length > 1) CopyFortranToRowMajor(data.Bytes, target, shape, size);
        else data.CopyTo(target); // one copy, into the array itself
        return shape.Length == 0 ? array.GetValue(0)! : array; // a 0-d array is its one value
    }

    /// <summary>
    /// As <see cref="FromBuffer"/>, but an array (not a 0-d one) becomes an <see cref="NdArray{T}"/>: over the memory
    /// file itself when the data came as one (no copy), else over a .NET array holding it.
    /// </summary>
    public static object ToNdArray(ReceivedPart data, (string Code, string Order) dtype, int[] shape, string order)
    {
        if (shape.Length == 0) return FromBuffer(data, dtype, shape, order);
        var (element, _, count) = Check(data, dtype, shape);
        var elements = Elements.Of(element);
        bool columnMajor = order == "F" && shape.Length > 1;
        if (data.IsDescriptor && !columnMajor) return elements.Mapped(data, (int)count, shape);
        // a small array, one that came over TCP, or column-major data (rearranged here): one copy into a .NET array
        if (columnMajor) return elements.OverArray(Flatten((Array)FromBuffer(data, dtype, shape, order)), shape);
        return elements.OverArray((Array)FromBuffer(data, dtype, [checked((int)count)], "C"), shape);
    }

    private static (Type Element, int Size, long Count) Check(ReceivedPart data, (string Code, string Order) dtype, int[] shape)
    {
        if (dtype.Order == ">")
            throw new UnsupportedPickleException($"a big-endian numpy array ('>{dtype.Code}') cannot be read here: send it as native order");
        Type element = NumpyDtype.TypeOf(dtype.Code);
        int size = NumpyDtype.SizeOf(element);
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count * size > data.Length)
            throw new InvalidDataException($"a numpy array of shape ({string.Join(", ", shape)}) needs {count * size} bytes, {data.Length} arrived");
        return (element, size, count);
    }

    private static Array Flatten(Array array)
    {
        var flat = Elements.Of(array.GetType().GetElementType()!).Uninitialized(array.Length);
        int bytes = Buffer.ByteLength(array);
        MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array), bytes)
            .CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(flat), bytes));
        return flat;
    }

    private static void CopyFortranToRowMajor(byte[] source, Span<byte> target, int[] shape, int size)
    {
        int rank = shape.Length;
        var index = new int[rank];
        long count = target.Length / size;
        for (long i = 0; i < count; i++)
        {
            // i walks the row-major target; its index tuple gives the column-major offset in the source
            long offset = 0, stride = 1;
            for (int d = 0; d < rank; d++)
            {
                offset += index[d] * stride;
                stride *= shape[d];
            }
            source.AsSpan((int)(offset * size), size).CopyTo(target.Slice((int)(i * size), size));
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
    }

    /// <summary>A numpy scalar (<c>np.float64(2.5)</c>) as its .NET primitive.</summary>
    public static object Scalar((string Code, string Order) dtype, byte[] data) =>
        FromBuffer(new ReceivedPart(data), dtype, [], "C");

    /// <summary>What needs the element type as a type argument, made once per element type.</summary>
    private abstract class Elements
    {
        private static readonly ConcurrentDictionary<Type, Elements> Cache = new();

        public static Elements Of(Type element) => Cache.GetOrAdd(element, static t =>
            (Elements)Activator.CreateInstance(typeof(Elements<>).MakeGenericType(t))!);

        public abstract Array Uninitialized(int length);
        public abstract object Mapped(ReceivedPart data, int count, int[] shape);
        public abstract object OverArray(Array flat, int[] shape);
    }

    private sealed class Elements<T> : Elements where T : unmanaged
    {
        public override Array Uninitialized(int length) => GC.AllocateUninitializedArray<T>(length);
        public override object Mapped(ReceivedPart data, int count, int[] shape) => new NdArray<T>(data.Map<T>(count), shape);
        public override object OverArray(Array flat, int[] shape) => new NdArray<T>((T[])flat, shape);
    }
}
