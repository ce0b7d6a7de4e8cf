using System.Runtime.InteropServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A <c>Py_buffer</c> obtained with <c>PyObject_GetBuffer</c> (kept in native memory: exporters may keep
/// pointers into it). While it is held the exporter's memory stays put (numpy refuses to resize);
/// released deterministically by <see cref="Dispose"/> under the GIL, or queued when the GIL is not held.
/// </summary>
internal sealed unsafe class PyBufferView : IDisposable
{
    private Py_buffer* _view;

    public ElementType? Element { get; }
    public string ElementDescription => Element?.DTypeName ?? _formatProblem!;
    private readonly string? _formatProblem;
    public long[] Shape { get; }
    public long[] Strides { get; }
    public bool IsReadOnly { get; }
    public bool IsCContiguous { get; }
    public long ItemCount { get; }
    public long ByteLength { get; }
    public int ItemSize { get; }
    public string ExporterType { get; }

    public static bool Supports(nint o) => CPython.PyObject_CheckBuffer(o) != 0;

    /// <summary>Gets a strided, formatted view; <paramref name="requested"/> only names the target in errors.</summary>
    public static PyBufferView Acquire(nint o, bool writable, Type requested)
    {
        string typeName = TypeName(o);
        if (!Supports(o))
            throw new InvalidCastException(
                $"Cannot view Python {typeName} as {requested}: it does not support the buffer protocol; pass a numpy array, bytes, bytearray or memoryview.");
        var view = (Py_buffer*)NativeMemory.AllocZeroed((nuint)sizeof(Py_buffer));
        int flags = PyConst.PyBUF_RECORDS_RO | (writable ? PyConst.PyBUF_WRITABLE : 0);
        if (CPython.PyObject_GetBuffer(o, view, flags) < 0)
        {
            NativeMemory.Free(view);
            var error = PythonException.FetchCurrent();
            if (writable && error.PythonTypeName == "BufferError")
                throw new InvalidOperationException(
                    $"Python {typeName} is read-only ({error.PythonMessage}); request a read-only view (writable: false) or pass a writable copy (a.copy()).", error);
            throw error;
        }
        return new PyBufferView(view, typeName);
    }

    /// <summary>
    /// The C type name (<c>tp_name</c>, e.g. "numpy.ndarray"): read from the type object without calling Python,
    /// so naming the exporter costs nothing on the fast path. <c>tp_name</c> follows PyObject_VAR_HEAD (offset 24).
    /// </summary>
    private static string TypeName(nint o) => Marshal.PtrToStringUTF8(*(nint*)(CPython.Py_TYPE(o) + 24)) ?? "?";

    private PyBufferView(Py_buffer* view, string exporterType)
    {
        _view = view;
        ExporterType = exporterType;
        ItemSize = checked((int)view->itemsize);
        ByteLength = view->len;
        IsReadOnly = view->@readonly != 0;
        var format = view->format == 0 ? default : MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)view->format);
        Element = ElementType.FromFormat(format, ItemSize, out _formatProblem);

        int ndim = view->ndim;
        if (view->shape == 0)
        {
            Shape = [ItemSize == 0 ? 0 : ByteLength / ItemSize];
            Strides = [ItemSize];
        }
        else
        {
            Shape = new ReadOnlySpan<long>((void*)view->shape, ndim).ToArray();
            Strides = view->strides != 0 ? new ReadOnlySpan<long>((void*)view->strides, ndim).ToArray() : CStrides(Shape, ItemSize);
        }
        long count = 1;
        foreach (long n in Shape) count *= n;
        ItemCount = count;
        IsCContiguous = count == 0 || IsCOrder(Shape, Strides, ItemSize);
    }

    private static bool IsCOrder(long[] shape, long[] strides, long itemSize)
    {
        long expected = itemSize;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    ~PyBufferView() => Release();

    /// <summary>Start of the data (the element at index 0,0,…).</summary>
    public nint Data => _view != null ? _view->buf : throw new ObjectDisposedException(nameof(PyBuffer<byte>), "The buffer view was disposed.");

    public bool IsDisposed => _view == null;

    public static long[] CStrides(ReadOnlySpan<long> shape, long itemSize)
    {
        var strides = new long[shape.Length];
        long stride = itemSize;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    public void CheckElementType(ElementType expected)
    {
        if (!expected.SameLayoutAs(Element))
            throw new InvalidCastException(
                $"Cannot view Python {ExporterType} as {expected.Type.Name} elements: expected {expected.Describe()}, got {ElementDescription}. " +
                $"Convert in Python (a.astype(numpy.{expected.DTypeName})) or request the matching element type.");
    }

    /// <summary>A C-ordered copy of the elements (works for any strides).</summary>
    public Array CopyToArray(ElementType element)
    {
        var array = Array.CreateInstance(element.Type, ItemCount);
        if (ItemCount == 0) return array;
        ref byte destination = ref MemoryMarshal.GetArrayDataReference(array);
        fixed (byte* d = &destination) CopyTo(d);
        return array;
    }

    public byte[] CopyBytes()
    {
        var bytes = new byte[ItemCount * ItemSize];
        fixed (byte* d = bytes) CopyTo(d);
        return bytes;
    }

    /// <summary>Copies the elements in C order into <paramref name="destination"/> (ItemCount × ItemSize bytes).</summary>
    public void CopyTo(byte* destination)
    {
        if (IsCContiguous) { Buffer.MemoryCopy((void*)Data, destination, ByteLength, ByteLength); return; }
        byte* d = destination;
        CopyStrided((byte*)Data, 0, ref d);
    }

    private void CopyStrided(byte* source, int dimension, ref byte* destination)
    {
        long n = Shape[dimension], stride = Strides[dimension];
        if (dimension == Shape.Length - 1)
        {
            if (stride == ItemSize)
            {
                long bytes = n * ItemSize;
                Buffer.MemoryCopy(source, destination, bytes, bytes);
                destination += bytes;
                return;
            }
            for (long i = 0; i < n; i++, destination += ItemSize)
                Buffer.MemoryCopy(source + i * stride, destination, ItemSize, ItemSize);
            return;
        }
        for (long i = 0; i < n; i++) CopyStrided(source + i * stride, dimension + 1, ref destination);
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        Py_buffer* view = _view;
        if (view == null) return;
        _view = null;
        if (GilState.IsHeld)
        {
            CPython.PyBuffer_Release(view);
            NativeMemory.Free(view);
        }
        else PendingReleases.EnqueueBufferRelease(view);
    }
}
