using System.Runtime.InteropServices;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>numpy arrays and scalars rebuilt as .NET arrays and primitives (one copy out of the received bytes).</summary>
internal static class NumpyArrays
{
    /// <summary>An array of <paramref name="dtype"/> and <paramref name="shape"/> over <paramref name="data"/> in
    /// <paramref name="order"/> ('C' row-major or 'F' column-major): 1-D → <c>T[]</c>, N-d → <c>T[,…]</c> (row-major),
    /// 0-d → the value itself.</summary>
    public static object FromBuffer(ReceivedPart data, (string Code, string Order) dtype, int[] shape, string order)
    {
        if (dtype.Order == ">")
            throw new UnsupportedPickleException($"a big-endian numpy array ('>{dtype.Code}') cannot be read here: send it as native order");
        Type element = NumpyDtype.TypeOf(dtype.Code);
        int size = NumpyDtype.SizeOf(element);
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count * size > data.Length)
            throw new InvalidDataException($"a numpy array of shape ({string.Join(", ", shape)}) needs {count * size} bytes, {data.Length} arrived");
        Array array = shape.Length switch
        {
            0 => Array.CreateInstance(element, 1),
            1 => Array.CreateInstance(element, shape[0]),
            _ => Array.CreateInstance(element, shape),
        };
        var target = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), checked((int)(count * size)));
        PyMpiBridge.Runtime.Native.LargePages.Advise(target); // before the first write: 2 MiB pages fault in 512 times faster
        if (order == "F" && shape.Length > 1) CopyFortranToRowMajor(data.Bytes, target, shape, size);
        else data.CopyTo(target); // one copy, into the array itself
        return shape.Length == 0 ? array.GetValue(0)! : array; // a 0-d array is its one value
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
}
