using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>Something that keeps exported .NET memory pinned and alive until Python lets go of it.</summary>
internal interface IPinOwner
{
    /// <summary>Called once, under the GIL, when the last Python reference to the memory is gone.</summary>
    void Unpin();
}

/// <summary>
/// A Python type implemented here (<c>_pympibridge.SharedMemory</c>, created with PyType_FromSpec) that exports
/// .NET memory through the buffer protocol: <c>bf_getbuffer</c> hands out the pinned address with shape, strides and
/// format; the instance holds the pin (a pinned GCHandle, or an owner such as a MemoryHandle) and releases it in
/// <c>tp_dealloc</c>, i.e. when the last numpy array / memoryview using the memory is gone.
/// </summary>
internal static unsafe class ArrayExporter
{
    public const int MaxDimensions = 16;

    private const int PinnedArray = 1, OwnerHandle = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct Instance
    {
        public nint ob_refcnt;
        public nint ob_type;
        public nint buf;
        public nint len;
        public nint itemsize;
        public int @readonly;
        public int ndim;
        public nint gcHandle;
        public int kind;
        public int exports;
        public int cContiguous;
        public int fContiguous;
        public fixed byte format[8];
        public fixed long shape[MaxDimensions];
        public fixed long strides[MaxDimensions];
    }

    private static BorrowedReference _type; // created once, kept for the process lifetime
    private static long _live;

    /// <summary>Exported .NET memory blocks still referenced from Python (each one pinned).</summary>
    public static long LiveCount => Interlocked.Read(ref _live);

    /// <summary>The Python type object (borrowed; lives for the process).</summary>
    public static BorrowedReference Type => _type;

    /// <summary>Creates the type once, at engine start, under the GIL.</summary>
    public static void CreateType()
    {
        if (!_type.IsNull) return;
        var slots = (PyType_Slot*)NativeMemory.AllocZeroed((nuint)(sizeof(PyType_Slot) * 5)); // kept for the process
        slots[0] = new PyType_Slot { slot = PyConst.Py_bf_getbuffer, pfunc = (nint)(delegate* unmanaged<nint, Py_buffer*, int, int>)&GetBuffer };
        slots[1] = new PyType_Slot { slot = PyConst.Py_bf_releasebuffer, pfunc = (nint)(delegate* unmanaged<nint, Py_buffer*, void>)&ReleaseBuffer };
        slots[2] = new PyType_Slot { slot = PyConst.Py_tp_dealloc, pfunc = (nint)(delegate* unmanaged<nint, void>)&Dealloc };
        slots[3] = new PyType_Slot { slot = PyConst.Py_tp_doc, pfunc = Marshal.StringToCoTaskMemUTF8(
            "Memory owned by .NET, shared without copying; pinned while any Python object uses it.") };
        var spec = (PyType_Spec*)NativeMemory.AllocZeroed((nuint)sizeof(PyType_Spec));
        spec->name = Marshal.StringToCoTaskMemUTF8(BridgeModule.Name + ".SharedMemory");
        spec->basicsize = sizeof(Instance);
        spec->flags = PyConst.Py_TPFLAGS_DEFAULT | PyConst.Py_TPFLAGS_DISALLOW_INSTANTIATION;
        spec->slots = (nint)slots;
        var created = CPython.PyType_FromSpec(spec);
        _type = new BorrowedReference(created.DangerousMoveToPointer()); // never released: the type lives as long as Python
    }

    /// <summary>
    /// A new exporter over <paramref name="data"/>. <paramref name="handle"/> is a pinned GCHandle of
    /// an array (<paramref name="isOwner"/> false) or a normal handle to an <see cref="IPinOwner"/>.
    /// </summary>
    public static NewReference Create(nint data, ElementType element, ReadOnlySpan<long> shape, ReadOnlySpan<long> strides,
                                      bool readOnly, GCHandle handle, bool isOwner)
    {
        if (shape.Length > MaxDimensions) throw new ArgumentException($"At most {MaxDimensions} dimensions can be shared, got {shape.Length}.");
        var self = CPython.PyType_GenericAlloc(_type, 0);
        if (self.IsNull) { FreeHandle(handle, isOwner); throw PythonException.FetchCurrent(); }
        var o = (Instance*)self.Borrow().Address;
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            o->shape[i] = shape[i];
            o->strides[i] = strides[i];
            count *= shape[i];
        }
        o->buf = data;
        o->itemsize = element.Size;
        o->len = (nint)(count * element.Size);
        o->@readonly = readOnly ? 1 : 0;
        o->ndim = shape.Length;
        for (int i = 0; i < element.Format.Length; i++) o->format[i] = (byte)element.Format[i];
        o->format[element.Format.Length] = 0;
        o->cContiguous = IsContiguous(shape, strides, element.Size, fortran: false) ? 1 : 0;
        o->fContiguous = IsContiguous(shape, strides, element.Size, fortran: true) ? 1 : 0;
        o->gcHandle = GCHandle.ToIntPtr(handle);
        o->kind = isOwner ? OwnerHandle : PinnedArray;
        Interlocked.Increment(ref _live);
        return self.Move();
    }

    private static bool IsContiguous(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides, long itemSize, bool fortran)
    {
        long expected = itemSize;
        for (int k = 0; k < shape.Length; k++)
        {
            int i = fortran ? k : shape.Length - 1 - k;
            if (shape[i] == 0) return true;
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    private static void FreeHandle(GCHandle handle, bool isOwner)
    {
        if (isOwner && handle.Target is IPinOwner owner) owner.Unpin();
        handle.Free();
    }

    private static void SetBufferError(string message)
    {
        fixed (byte* text = Py.Utf8(message)) CPython.PyErr_SetString(CPython.PyExc_BufferError, text);
    }

    [UnmanagedCallersOnly]
    private static int GetBuffer(nint self, Py_buffer* view, int flags)
    {
        var o = (Instance*)self;
        view->obj = 0;
        if ((flags & PyConst.PyBUF_WRITABLE) != 0 && o->@readonly != 0)
        {
            SetBufferError("this .NET memory was shared read-only");
            return -1;
        }
        bool wantsStrides = (flags & PyConst.PyBUF_STRIDES) == PyConst.PyBUF_STRIDES;
        if ((!wantsStrides && o->cContiguous == 0)
            || ((flags & PyConst.PyBUF_C_CONTIGUOUS) == PyConst.PyBUF_C_CONTIGUOUS && o->cContiguous == 0)
            || ((flags & PyConst.PyBUF_F_CONTIGUOUS) == PyConst.PyBUF_F_CONTIGUOUS && o->fContiguous == 0)
            || ((flags & PyConst.PyBUF_ANY_CONTIGUOUS) == PyConst.PyBUF_ANY_CONTIGUOUS && o->cContiguous == 0 && o->fContiguous == 0))
        {
            SetBufferError("this .NET memory is not contiguous in the requested order");
            return -1;
        }
        view->buf = o->buf;
        view->obj = NewReference.FromBorrowed(new BorrowedReference(self)).DangerousMoveToPointer(); // the view owns a reference
        view->len = o->len;
        view->itemsize = o->itemsize;
        view->@readonly = o->@readonly;
        view->ndim = (flags & PyConst.PyBUF_ND) == PyConst.PyBUF_ND ? o->ndim : 1;
        view->format = (flags & PyConst.PyBUF_FORMAT) != 0 ? (nint)o->format : 0;
        view->shape = (flags & PyConst.PyBUF_ND) == PyConst.PyBUF_ND ? (nint)o->shape : 0;
        view->strides = wantsStrides ? (nint)o->strides : 0;
        view->suboffsets = 0;
        view->@internal = 0;
        o->exports++;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void ReleaseBuffer(nint self, Py_buffer* view) => ((Instance*)self)->exports--;

    [UnmanagedCallersOnly]
    private static void Dealloc(nint self)
    {
        var o = (Instance*)self;
        try
        {
            if (o->gcHandle != 0)
            {
                var handle = GCHandle.FromIntPtr(o->gcHandle);
                o->gcHandle = 0;
                FreeHandle(handle, o->kind == OwnerHandle);
                Interlocked.Decrement(ref _live);
            }
        }
        catch (Exception e)
        {
            // Never let an exception cross into C; report it on stderr, the memory stays pinned (leak, no crash).
            Console.Error.WriteLine($"PyMpiBridge: releasing shared .NET memory failed: {e}");
        }
        var type = new BorrowedReference(o->ob_type);
        var free = (delegate* unmanaged<nint, void>)CPython.PyType_GetSlot(type, PyConst.Py_tp_free);
        free(self);
        CPython.Py_DecRef(StolenReference.DangerousFromPointer(type.Address)); // instances of heap types own a reference to their type
    }
}
