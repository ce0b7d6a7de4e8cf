using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// .NET memory as numpy arrays WITHOUT copying: the array and the .NET memory are the same bytes (writes are
/// visible on both sides). The memory stays pinned and alive while any Python object uses it and is unpinned when
/// the last one goes — the .NET GC may collect the source afterwards. Every numeric element type:
/// sbyte…ulong, Half, float, double, <see cref="Complex32"/>, <see cref="System.Numerics.Complex"/>, bool.
/// </summary>
public static unsafe class PyArray
{
    private static PyObject? _asarray;

    /// <summary>.NET memory blocks currently shared with (and pinned for) Python.</summary>
    public static long LiveExports => ArrayExporter.LiveCount;

    /// <summary>A 1-D numpy array over <paramref name="array"/>.</summary>
    public static PyObject From<T>(T[] array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        return FromArray<T>(array, [array.LongLength], readOnly: false);
    }

    /// <summary>A 2-D numpy array over <paramref name="array"/> (.NET multi-dimensional arrays are C-ordered).</summary>
    public static PyObject From<T>(T[,] array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        return FromArray<T>(array, [array.GetLongLength(0), array.GetLongLength(1)], readOnly: false);
    }

    /// <summary>A 3-D numpy array over <paramref name="array"/>.</summary>
    public static PyObject From<T>(T[,,] array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        return FromArray<T>(array, [array.GetLongLength(0), array.GetLongLength(1), array.GetLongLength(2)], readOnly: false);
    }

    /// <summary>
    /// A numpy array over <paramref name="memory"/> (an array slice, or memory of a custom MemoryManager), with an
    /// optional C-ordered <paramref name="shape"/> whose product must equal the length (default: 1-D).
    /// </summary>
    public static PyObject From<T>(Memory<T> memory, params ReadOnlySpan<long> shape) where T : unmanaged
        => FromMemory(memory, shape, readOnly: false);

    /// <summary>Like <see cref="From{T}(Memory{T}, ReadOnlySpan{long})"/>, but numpy sees a read-only array.</summary>
    public static PyObject FromReadOnly<T>(ReadOnlyMemory<T> memory, params ReadOnlySpan<long> shape) where T : unmanaged
        => FromMemory(MemoryMarshal.AsMemory(memory), shape, readOnly: true);

    /// <summary>
    /// A numpy array over native memory, with optional <paramref name="shape"/> and byte <paramref name="strides"/>
    /// (numpy's convention; e.g. a transposed or every-other-element view). Bounds are checked.
    /// </summary>
    public static PyObject From<T>(NativeBuffer<T> buffer, ReadOnlySpan<long> shape = default, ReadOnlySpan<long> strides = default) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var element = ElementOf<T>();
        long[] s = shape.IsEmpty ? [buffer.Length] : shape.ToArray();
        long[] st = strides.IsEmpty ? CheckedCStrides(s, element, buffer.Length) : strides.ToArray();
        CheckBounds(s, st, element.Size, buffer.Length * element.Size);
        nint data = buffer.Address;
        var owner = buffer.AddUser();
        return Wrap(data, element, s, st, readOnly: false, GCHandle.Alloc(owner), isOwner: true);
    }

    private static PyObject FromArray<T>(Array array, long[] shape, bool readOnly) where T : unmanaged
    {
        var element = ElementOf<T>();
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        nint data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return Wrap(data, element, shape, PyBufferView.CStrides(shape, element.Size), readOnly, handle, isOwner: false);
    }

    private static PyObject FromMemory<T>(Memory<T> memory, ReadOnlySpan<long> shape, bool readOnly) where T : unmanaged
    {
        var element = ElementOf<T>();
        long[] s = shape.IsEmpty ? [memory.Length] : shape.ToArray();
        long[] strides = CheckedCStrides(s, element, memory.Length);
        var pin = new MemoryPin(memory.Pin());
        return Wrap((nint)pin.Pointer, element, s, strides, readOnly, GCHandle.Alloc(pin), isOwner: true);
    }

    private sealed class MemoryPin(MemoryHandle handle) : IPinOwner
    {
        public void* Pointer => handle.Pointer;
        public void Unpin() => handle.Dispose();
    }

    private static ElementType ElementOf<T>() => ElementType.For(typeof(T))
        ?? throw new NotSupportedException($"{typeof(T)} cannot be shared with numpy; use one of: {ElementType.Names}.");

    private static long[] CheckedCStrides(long[] shape, ElementType element, long length)
    {
        long count = 1;
        foreach (long n in shape)
        {
            if (n < 0) throw new ArgumentOutOfRangeException(nameof(shape), $"Negative extent in shape [{string.Join(", ", shape)}].");
            count *= n;
        }
        if (count != length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {count} elements but the memory has {length}.", nameof(shape));
        return PyBufferView.CStrides(shape, element.Size);
    }

    private static void CheckBounds(long[] shape, long[] strides, int itemSize, long byteLength)
    {
        if (strides.Length != shape.Length)
            throw new ArgumentException($"{strides.Length} strides given for {shape.Length} dimensions.", nameof(strides));
        long low = 0, high = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0) throw new ArgumentOutOfRangeException(nameof(shape), $"Negative extent in shape [{string.Join(", ", shape)}].");
            if (shape[i] == 0) return;
            long reach = (shape[i] - 1) * strides[i];
            if (reach < 0) low += reach; else high += reach;
        }
        if (low < 0 || high + itemSize > byteLength)
            throw new ArgumentOutOfRangeException(nameof(strides),
                $"Shape [{string.Join(", ", shape)}] with strides [{string.Join(", ", strides)}] reaches bytes [{low}, {high + itemSize}) of a {byteLength}-byte buffer.");
    }

    private static PyObject Wrap(nint data, ElementType element, long[] shape, long[] strides, bool readOnly, GCHandle handle, bool isOwner)
    {
        GilState.ThrowIfNotHeld();
        using var exporter = ArrayExporter.Create(data, element, shape, strides, readOnly, handle, isOwner); // numpy's base keeps its own
        var args = stackalloc BorrowedReference[2];
        args[1] = exporter.Borrow();
        return CPython.PyObject_Vectorcall(AsArray(), args + 1, 1 | PyConst.PY_VECTORCALL_ARGUMENTS_OFFSET, BorrowedReference.Null).MoveToPyObject();
    }

    private static BorrowedReference AsArray()
    {
        if (_asarray is null)
        {
            using var numpy = Py.Import("numpy");
            _asarray = numpy.GetAttr("asarray");
            GC.SuppressFinalize(_asarray); // kept for the process lifetime
        }
        return _asarray.Reference;
    }
}
