namespace PyMpiBridge.Python;

/// <summary>
/// A zero-copy view of a Python buffer (a numpy array, bytes, bytearray, memoryview…) as .NET elements of type
/// <typeparamref name="T"/>, obtained through the buffer protocol. The element type and contiguity are checked
/// with clear errors; <see cref="ToArray"/> copies any layout. While the view is alive the memory cannot move or
/// be freed, and it may be used WITHOUT the GIL (e.g. inside <see cref="Py.AllowThreads"/>). Dispose it promptly.
/// </summary>
/// <typeparam name="T">sbyte, byte, short, ushort, int, uint, long, ulong, Half, float, double, Complex32, Complex or bool.</typeparam>
public sealed unsafe class PyBuffer<T> : IDisposable, IPinCounted where T : unmanaged
{
    private readonly PyBufferView _view;
    private static readonly ElementType? s_element = ElementType.For(typeof(T));

    /// <summary>One released view kept for the next exported-function argument of this element type (GIL-protected).</summary>
    private static PyBuffer<T>? s_spare;
    private OwnedMemoryManager<T>? _memory;
    private int _pins;
    private bool _disposed, _releaseDeferred;

    internal PyBuffer(PyBufferView view) => _view = view;

    /// <summary>Views <paramref name="obj"/>; with <paramref name="writable"/> the exporter must allow writes.</summary>
    /// <exception cref="InvalidCastException">Not a buffer, or the element type is not <typeparamref name="T"/> ("expected float64 (Double), got int32").</exception>
    public static PyBuffer<T> Get(PyObject obj, bool writable = false) => Acquire(obj.Reference, writable, Element, allowDirect: true);

    /// <summary>This view's element type, or a clear error when <typeparamref name="T"/> is not numeric.</summary>
    private static ElementType Element
        => s_element ?? throw new NotSupportedException($"{typeof(T)} is not a numeric element type; use one of: {ElementType.Names}.");

    /// <summary>
    /// A view of an exported function's argument, valid during the call: reuses the view the previous call returned,
    /// so the call allocates nothing. Caller holds the GIL; give it back with <see cref="ReturnArgument"/>.
    /// </summary>
    internal static PyBuffer<T> RentArgument(BorrowedReference o)
    {
        var element = Element;
        var buffer = s_spare;
        if (buffer is null) return Acquire(o, writable: false, element);
        s_spare = null;
        buffer._view.Fill(o, writable: false, typeof(PyBuffer<T>), allowDirect: true);
        if (!element.SameLayoutAs(buffer._view.Element))
        {
            buffer._view.ReleaseForReuse();
            s_spare = buffer;
            buffer._view.CheckElementType(element); // throws, naming both types
        }
        buffer._disposed = false;
        buffer._memory = null;
        return buffer;
    }

    /// <summary>After the call: releases the view, and keeps this object for the next call unless a pending request pins it.</summary>
    internal void ReturnArgument()
    {
        if (_memory is null && !_disposed)
        {
            // No Memory was taken, so nothing can pin this view: released and kept without taking the lock.
            _disposed = true;
            _view.ReleaseForReuse();
            s_spare = this;
            return;
        }
        lock (_view)
        {
            if (_disposed) return; // the function disposed it: nothing to reuse safely
            _disposed = true;
            if (_pins > 0)
            {
                _releaseDeferred = true;
                return;
            }
        }
        _view.ReleaseForReuse();
        s_spare = this;
    }

    /// <param name="allowDirect">Read a numpy array's fields instead of asking for a buffer export (~10× cheaper).</param>
    private static PyBuffer<T> Acquire(BorrowedReference o, bool writable, ElementType element, bool allowDirect = false)
    {
        var view = PyBufferView.Acquire(o, writable, typeof(PyBuffer<T>), allowDirect);
        try
        {
            view.CheckElementType(element);
            return new PyBuffer<T>(view);
        }
        catch
        {
            view.Dispose();
            throw;
        }
    }

    /// <summary>Number of elements.</summary>
    public long Length => _view.ItemCount;

    /// <summary>Number of dimensions.</summary>
    public int NDim => _view.Shape.Length;

    /// <summary>Extent of each dimension.</summary>
    public ReadOnlySpan<long> Shape => _view.Shape;

    /// <summary>Byte distance between consecutive elements of each dimension (numpy's <c>strides</c>).</summary>
    public ReadOnlySpan<long> Strides => _view.Strides;

    /// <summary>True when the exporter forbids writes (bytes, or a numpy array with writeable=False).</summary>
    public bool IsReadOnly => _view.IsReadOnly;

    /// <summary>True when the elements are packed in C order, so <see cref="Span"/> is available.</summary>
    public bool IsContiguous => _view.IsCContiguous;

    /// <summary>numpy's dtype name of the elements, e.g. float64.</summary>
    public string DType => _view.Element!.DTypeName;

    /// <summary>The Python type that exported the buffer, e.g. numpy.ndarray.</summary>
    public string ExporterType => _view.ExporterType;

    /// <summary>The elements, read-write, without copying. Throws for read-only or non-contiguous buffers.</summary>
    public Span<T> Span
    {
        get
        {
            if (_view.IsReadOnly)
                throw new InvalidOperationException($"The Python {ExporterType} buffer is read-only; use ReadOnlySpan, or pass a writable array.");
            return new Span<T>((void*)DataChecked(), SpanLength());
        }
    }

    /// <summary>
    /// The elements as <see cref="Memory{T}"/>, read-write, without copying, for calls that use them after they return:
    /// <c>comm.Isend(buffer.Memory, ...)</c> on a numpy array is zero-copy, and while the request is pending this view
    /// can be neither collected nor released (a Dispose then releases it when the request completes). Throws for
    /// read-only or non-contiguous buffers, as <see cref="Span"/> does.
    /// </summary>
    public Memory<T> Memory
    {
        get
        {
            if (_view.IsReadOnly)
                throw new InvalidOperationException($"The Python {ExporterType} buffer is read-only; use ReadOnlyMemory, or pass a writable array.");
            return MemoryManager.Memory;
        }
    }

    /// <summary>The elements as <see cref="ReadOnlyMemory{T}"/> (see <see cref="Memory"/>); also for read-only buffers.</summary>
    public ReadOnlyMemory<T> ReadOnlyMemory => MemoryManager.Memory;

    private OwnedMemoryManager<T> MemoryManager
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_memory is null) _view.EnsureOwned(); // the memory may now outlive the call that lent the array
            return _memory ??= new OwnedMemoryManager<T>(this, DataChecked(), SpanLength());
        }
    }

    void IPinCounted.ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    void IPinCounted.AddPin()
    {
        lock (_view)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pins++;
        }
    }

    void IPinCounted.ReleasePin()
    {
        lock (_view)
        {
            if (--_pins > 0 || !_releaseDeferred) return;
            _releaseDeferred = false;
        }
        _view.Dispose(); // safe without the GIL: queued until the next acquisition
    }

    /// <summary>The elements, read-only, without copying. Throws for non-contiguous buffers.</summary>
    public ReadOnlySpan<T> ReadOnlySpan => new((void*)DataChecked(), SpanLength());

    private nint DataChecked()
    {
        nint data = _view.Data;
        if (!_view.IsCContiguous)
            throw new InvalidOperationException(
                $"The Python {ExporterType} is not C-contiguous (shape [{string.Join(", ", _view.Shape)}], strides [{string.Join(", ", _view.Strides)}]); " +
                "call ToArray() for a copy, or pass numpy.ascontiguousarray(a) from Python.");
        return data;
    }

    private int SpanLength() => _view.ItemCount <= int.MaxValue ? (int)_view.ItemCount
        : throw new InvalidOperationException($"{_view.ItemCount} elements do not fit in one Span<{typeof(T).Name}>; view slices of the array instead.");

    /// <summary>A C-ordered copy of the elements; works for any strides.</summary>
    public T[] ToArray() => (T[])_view.CopyToArray(ElementType.For(typeof(T))!);

    /// <summary>
    /// Releases the view (under the GIL if held, otherwise at the next GIL acquisition); if <see cref="Memory"/> is
    /// pinned by a pending request, when the last such request completes.
    /// </summary>
    public void Dispose()
    {
        lock (_view)
        {
            if (_disposed) return;
            _disposed = true;
            if (_pins > 0)
            {
                _releaseDeferred = true;
                return;
            }
        }
        _view.Dispose();
    }
}
