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
    private BorrowedReference _exporterTypeObject; // identity only: compared, and named on demand while a view of it is held
    private string? _exporterType;

    public ElementType? Element { get; private set; }
    public string ElementDescription => Element?.DTypeName ?? _formatProblem!;
    private string? _formatProblem;
    public long[] Shape { get; private set; } = [];
    public long[] Strides { get; private set; } = [];
    public bool IsReadOnly { get; private set; }
    public bool IsCContiguous { get; private set; }
    public long ItemCount { get; private set; }
    public long ByteLength { get; private set; }
    public int ItemSize { get; private set; }

    /// <summary>The exporter's C type name, e.g. numpy.ndarray (read on first use: naming it costs nothing on the fast path).</summary>
    public string ExporterType => _exporterType ??= TypeName(_exporterTypeObject);

    public static bool Supports(BorrowedReference o) => CPython.PyObject_CheckBuffer(o) != 0;

    /// <summary>Gets a strided, formatted view; <paramref name="requested"/> only names the target in errors.</summary>
    public static PyBufferView Acquire(BorrowedReference o, bool writable, Type requested, bool allowDirect = false)
    {
        var view = new PyBufferView();
        try
        {
            view.Fill(o, writable, requested, allowDirect);
            view.EnsureOwned(); // a view that outlives the call holds its own reference to a directly read array
            return view;
        }
        catch
        {
            GC.SuppressFinalize(view);
            throw;
        }
    }

    private PyBufferView() { }

    /// <summary>
    /// Views <paramref name="o"/> in this (released or new) object: the native Py_buffer and the shape/strides arrays of
    /// the previous view are reused, so an exported function's buffer arguments allocate nothing per call.
    /// </summary>
    public void Fill(BorrowedReference o, bool writable, Type requested, bool allowDirect = false)
    {
        if (_live) throw new InvalidOperationException("The buffer view is still held.");
        var type = CPython.Py_TYPE(o);
        if (allowDirect && NdarrayLayout.Matches(type) && FillDirect(o, type))
        {
            if (!writable || !IsReadOnly) return;
            ReleaseForReuse();
            throw ReadOnly(type, "the array's WRITEABLE flag is off", null);
        }
        if (!Supports(o))
            throw new InvalidCastException(
                $"Cannot view Python {TypeName(type)} as {requested}: it does not support the buffer protocol; pass a numpy array, bytes, bytearray or memoryview.");
        var view = _view != null ? _view : (Py_buffer*)NativeMemory.AllocZeroed((nuint)sizeof(Py_buffer));
        int flags = PyConst.PyBUF_RECORDS_RO | (writable ? PyConst.PyBUF_WRITABLE : 0);
        if (CPython.PyObject_GetBuffer(o, view, flags) < 0)
        {
            NativeMemory.Free(view);
            _view = null;
            var error = PythonException.FetchCurrent();
            if (writable && error.PythonTypeName == "BufferError") throw ReadOnly(type, error.PythonMessage, error);
            throw error;
        }
        _view = view;
        _live = true;
        if (type != _exporterTypeObject) _exporterType = null;
        _exporterTypeObject = type;
        ItemSize = checked((int)view->itemsize);
        ByteLength = view->len;
        IsReadOnly = view->@readonly != 0;
        var format = view->format == 0 ? default : MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)view->format);
        Element = ElementType.FromFormat(format, ItemSize, out _formatProblem);

        int ndim = view->ndim;
        if (view->shape == 0)
        {
            long[] shape = Shape.Length == 1 ? Shape : new long[1], strides = Strides.Length == 1 ? Strides : new long[1];
            shape[0] = ItemSize == 0 ? 0 : ByteLength / ItemSize;
            strides[0] = ItemSize;
            (Shape, Strides) = (shape, strides);
        }
        else
        {
            long[] shape = Shape.Length == ndim ? Shape : new long[ndim], strides = Strides.Length == ndim ? Strides : new long[ndim];
            new ReadOnlySpan<long>((void*)view->shape, ndim).CopyTo(shape);
            if (view->strides != 0) new ReadOnlySpan<long>((void*)view->strides, ndim).CopyTo(strides);
            else CStrides(shape, ItemSize).CopyTo(strides);
            (Shape, Strides) = (shape, strides);
        }
        long count = 1;
        foreach (long n in Shape) count *= n;
        ItemCount = count;
        IsCContiguous = count == 0 || IsCOrder(Shape, Strides, ItemSize);
    }

    private static InvalidOperationException ReadOnly(BorrowedReference type, string why, Exception? inner) => new(
        $"Python {TypeName(type)} is read-only ({why}); request a read-only view (writable: false) or pass a writable copy (a.copy()).", inner);

    /// <summary>True between <see cref="Fill"/> and a release.</summary>
    private bool _live;

    /// <summary>
    /// A numpy array read directly (<see cref="NdarrayLayout"/>), held by a reference instead of a buffer export: borrowed
    /// from the caller, or owned when <see cref="_directOwned"/> (kept raw: a field cannot hold a <see cref="NewReference"/>).
    /// </summary>
    private nint _direct, _directData;

    /// <summary>
    /// Whether <see cref="_direct"/> is our own reference. During an exported call the caller's reference keeps the
    /// argument alive, so none is taken (Py_DecRef would cost a GC transition per call); <see cref="EnsureOwned"/>
    /// takes one when the memory may outlive the call (Memory handed to a nonblocking request).
    /// </summary>
    private bool _directOwned;

    /// <summary>Takes a reference to a directly read array, so the view stays valid after the call that lent it.</summary>
    public void EnsureOwned()
    {
        if (_direct == 0 || _directOwned) return;
        if (GilState.IsHeld) CPython.Py_IncRef(new BorrowedReference(_direct));
        else
        {
            using var gil = Py.Gil();
            CPython.Py_IncRef(new BorrowedReference(_direct));
        }
        _directOwned = true;
    }

    /// <summary>
    /// Views a numpy array by reading its fields (data, nd, dimensions, strides, descr, flags), ~10× cheaper than
    /// the buffer protocol, whose numpy side rebuilds the format string on every request. The array is held by a
    /// reference until the view is released. False (nothing taken) for dtypes the table does not know: the buffer
    /// protocol then explains.
    /// </summary>
    private bool FillDirect(BorrowedReference o, BorrowedReference type)
    {
        var fields = NdarrayLayout.Read(o);
        var element = fields.Element;
        if (element is null) return false;
        _direct = o.Address;
        _directOwned = false;
        _directData = fields.Data;
        _live = true;
        if (type != _exporterTypeObject) _exporterType = null;
        _exporterTypeObject = type;
        Element = element;
        _formatProblem = null;
        ItemSize = element.Size;
        IsReadOnly = !fields.Writeable;
        int ndim = fields.NDim;
        long[] shape = Shape.Length == ndim ? Shape : new long[ndim], strides = Strides.Length == ndim ? Strides : new long[ndim];
        fields.Shape.CopyTo(shape);
        fields.Strides.CopyTo(strides);
        (Shape, Strides) = (shape, strides);
        long count = 1;
        foreach (long n in shape) count *= n;
        ItemCount = count;
        ByteLength = count * ItemSize;
        IsCContiguous = count == 0 || IsCOrder(shape, strides, ItemSize);
        return true;
    }

    /// <summary>
    /// Releases the view now (the caller holds the GIL) and keeps this object and its native memory for the next
    /// <see cref="Fill"/>.
    /// </summary>
    public void ReleaseForReuse()
    {
        if (!_live) return;
        _live = false;
        if (_direct != 0)
        {
            if (_directOwned) CPython.Py_DecRef(StolenReference.DangerousFromPointer(_direct));
            _direct = 0;
            _directOwned = false;
        }
        else CPython.PyBuffer_Release(_view);
    }

    /// <summary>
    /// The C type name (<c>tp_name</c>, e.g. "numpy.ndarray"): read from the type object without calling Python.
    /// <c>tp_name</c> follows PyObject_VAR_HEAD (offset 24).
    /// </summary>
    private static string TypeName(BorrowedReference type) => Marshal.PtrToStringUTF8(*(nint*)(type.Address + 24)) ?? "?";

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
    public nint Data => _live ? (_direct != 0 ? _directData : _view->buf) : throw new ObjectDisposedException(nameof(PyBuffer<byte>), "The buffer view was disposed.");

    public bool IsDisposed => !_live;

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
        nint direct = _direct;
        if (direct != 0 && _live)
        {
            _direct = 0;
            _live = false;
            if (_directOwned)
            {
                _directOwned = false;
                if (GilState.IsHeld) CPython.Py_DecRef(StolenReference.DangerousFromPointer(direct));
                else PendingReleases.EnqueueDecRef(direct);
            }
        }
        Py_buffer* view = _view;
        if (view == null) return;
        _view = null;
        if (!_live)
        {
            NativeMemory.Free(view); // released for reuse already: only the memory is left
            return;
        }
        _live = false;
        if (GilState.IsHeld)
        {
            CPython.PyBuffer_Release(view);
            NativeMemory.Free(view);
        }
        else PendingReleases.EnqueueBufferRelease(view);
    }
}

/// <summary>
/// numpy's <c>PyArrayObject_fields</c> and the first fields of <c>PyArray_Descr</c>, read without calling numpy (the
/// layout of numpy 1.x and 2.x for these fields: data at 16, nd 24, dimensions 32, strides 40, descr 56, flags 64;
/// descr kind 24, type 25, byteorder 26). Trusted only after a probe on the first array seen agrees with the buffer
/// protocol on the same array; otherwise never used.
/// </summary>
internal static unsafe class NdarrayLayout
{
    private const int NPY_ARRAY_WRITEABLE = 0x0400;
    private static BorrowedReference s_type;
    private static int s_state; // 0 not probed, 1 trusted, -1 not used
    private static nint s_lastDescr;
    private static ElementType? s_lastElement;

    public readonly ref struct Fields(nint data, int nd, long* shape, long* strides, ElementType? element, bool writeable)
    {
        public readonly nint Data = data;
        public readonly int NDim = nd;
        public ReadOnlySpan<long> Shape => new(shape, NDim);
        public ReadOnlySpan<long> Strides => new(strides, NDim);
        public readonly ElementType? Element = element;
        public readonly bool Writeable = writeable;
    }

    /// <summary>Whether objects of <paramref name="type"/> may be read directly (exact numpy.ndarray, layout probed). GIL held.</summary>
    public static bool Matches(BorrowedReference type)
    {
        if (s_state == 1) return type == s_type;
        if (s_state == -1) return false;
        if (Marshal.PtrToStringUTF8(*(nint*)(type.Address + 24)) != "numpy.ndarray") return false;
        s_state = Probe(type) ? 1 : -1;
        s_type = type;
        return s_state == 1;
    }

    public static Fields Read(BorrowedReference o)
    {
        byte* b = (byte*)o.Address;
        nint descr = *(nint*)(b + 56);
        byte* d = (byte*)descr;
        ElementType? element = null;
        // numpy's builtin dtypes are singletons: the last one seen is the commonest next one.
        if (descr == s_lastDescr) element = s_lastElement;
        else if (d[26] != (byte)'>')
        {
            int size = (char)d[25] switch
            {
                'b' or 'B' or '?' => 1,
                'h' or 'H' or 'e' => 2,
                'i' or 'I' or 'f' => 4,
                'l' or 'L' or 'q' or 'Q' or 'd' or 'F' or 'p' or 'P' => 8,
                'D' => 16,
                _ => 0,
            };
            if (size != 0) element = ElementType.CanonicalOf((char)d[24], size);
            if (element is not null) (s_lastDescr, s_lastElement) = (descr, element);
        }
        int nd = *(int*)(b + 24);
        return new Fields(*(nint*)(b + 16), nd, *(long**)(b + 32), *(long**)(b + 40), element, (*(int*)(b + 64) & NPY_ARRAY_WRITEABLE) != 0);
    }

    /// <summary>Compares a direct read with the buffer protocol on strided, read-only and complex arrays.</summary>
    private static bool Probe(BorrowedReference type)
    {
        try
        {
            using var probes = Py.Eval("""
                (lambda np: [np.arange(12.0).reshape(3, 4)[:, ::2], np.zeros((2, 3), dtype=np.int32),
                             (lambda a: (a.setflags(write=False), a)[1])(np.ones(5, dtype=np.complex64)),
                             np.array([True, False]), np.zeros(3, dtype=np.uint16)[::-1]])(__import__('numpy'))
                """);
            foreach (var probe in probes)
            {
                using (probe)
                {
                    var o = probe.Reference;
                    if (CPython.Py_TYPE(o) != type) return false;
                    var fields = Read(o);
                    using var view = PyBufferView.Acquire(o, writable: false, typeof(object));
                    if (fields.Element is null || fields.Element != view.Element || fields.Data != view.Data || fields.NDim != view.Shape.Length ||
                        !fields.Shape.SequenceEqual(view.Shape) || !fields.Strides.SequenceEqual(view.Strides) || fields.Writeable == view.IsReadOnly)
                        return false;
                }
            }
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
