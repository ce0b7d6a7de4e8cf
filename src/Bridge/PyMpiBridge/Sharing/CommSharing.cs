using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Sharing;

/// <summary>
/// One communicator, two languages: a C# <see cref="Comm"/> seen from Python as an mpi4py <c>MPI.Intracomm</c>
/// over the same handle, and back. mpi4py 3.1 has no <c>fromhandle</c>, so the handle crosses as its Fortran
/// integer (<c>MPI_Comm_c2f</c> / <c>MPI.Comm.f2py</c>), which both sides map to the same C handle.
/// Sharing never transfers ownership: whoever created a communicator frees it.
/// </summary>
public static class CommSharing
{
    /// <summary>
    /// The mpi4py communicator for <paramref name="comm"/> (needs the GIL). Python must not <c>Free()</c> it:
    /// the C# side created it and frees it.
    /// </summary>
    public static PyObject ToMpi4py(this Comm comm)
    {
        ArgumentNullException.ThrowIfNull(comm);
        return Mpi4py.Get().Intracomm.CallMethod("f2py", comm.ToFortran());
    }

    /// <summary>
    /// A C# view of an mpi4py communicator (needs the GIL). The view does not own the handle: disposing it leaves
    /// the communicator alone; Python, which created it, frees it.
    /// </summary>
    /// <exception cref="ArgumentException">The object is not an mpi4py communicator, or is <c>MPI.COMM_NULL</c>.</exception>
    public static Comm FromMpi4py(PyObject mpi4pyComm)
    {
        ArgumentNullException.ThrowIfNull(mpi4pyComm);
        var mpi4py = Mpi4py.Get();
        if (!mpi4pyComm.IsInstance(mpi4py.CommType))
            throw new ArgumentException($"expected an mpi4py communicator (mpi4py.MPI.Comm), got a Python {mpi4pyComm.TypeName}.", nameof(mpi4pyComm));
        if (mpi4pyComm.PythonEquals(mpi4py.CommNull))
            throw new ArgumentException("the mpi4py communicator is MPI.COMM_NULL (freed, or this rank is not a member).", nameof(mpi4pyComm));
        using var fortran = mpi4pyComm.CallMethod("py2f");
        return Comm.FromFortran(fortran.As<int>(), ownsHandle: false);
    }

    /// <summary>
    /// <see cref="FromMpi4py(PyObject)"/> for an exported function's argument, without allocating: an mpi4py
    /// <c>Comm</c>/<c>Intracomm</c> keeps its C handle as the first field after the object header (<c>ob_mpi</c>,
    /// checked once against <c>MPI._handleof</c>), so the handle is read directly; World and Self map to their
    /// singletons and other communicators to a view reused while its handle stays the same communicator (lent: Dispose
    /// on it does nothing, so a callee's <c>using</c> breaks no other holder). Anything else (subclasses,
    /// non-communicators, COMM_NULL) goes the general way, with its errors.
    /// </summary>
    internal static Comm FromMpi4py(BorrowedReference argument)
    {
        var mpi4py = Mpi4py.Get();
        var type = argument.Type;
        if (mpi4py.HandleOffset != 0 && (type == mpi4py.IntracommType || type == mpi4py.CommTypeObject))
        {
            nint handle = mpi4py.HandleIsPointer ? argument.ReadPointerField(mpi4py.HandleOffset) : (nint)argument.ReadUInt32Field(mpi4py.HandleOffset);
            if (handle != 0 && handle != PyMpiBridge.Mpi.Interop.MpiLibrary.Abi.CommNull)
            {
                int slot = (int)((ulong)handle >> 4) & (s_views.Length - 1);
                return s_views[slot] = Comm.Borrow(handle, s_views[slot]);
            }
        }
        using var obj = argument.ToPyObject();
        return FromMpi4py(obj);
    }

    /// <summary>Views handed to exported functions, by handle (GIL-protected).</summary>
    private static readonly Comm?[] s_views = new Comm?[8];

    /// <summary>
    /// mpi4py's communicator types and COMM_NULL, looked up once: exported C# functions taking a Comm convert on every
    /// call. Held for the process lifetime, like the one interpreter they belong to. Caller holds the GIL.
    /// </summary>
    private sealed record Mpi4py(PyObject Intracomm, PyObject CommType, PyObject CommNull)
    {
        private static Mpi4py? s_instance;

        /// <summary>Where <c>ob_mpi</c> sits in a communicator object (0: layout not as expected, read it the slow way).</summary>
        public int HandleOffset { get; private init; }
        public bool HandleIsPointer { get; private init; }
        // Borrowed from the references above, which live as long as this record (the process).
        public BorrowedReference IntracommType { get; } = Intracomm.DangerousBorrowUnchecked();
        public BorrowedReference CommTypeObject { get; } = CommType.DangerousBorrowUnchecked();

        public static Mpi4py Get()
        {
            if (s_instance is { } cached) return cached;
            using var mpi = Py.Import("mpi4py.MPI");
            bool pointer = PyMpiBridge.Mpi.Interop.MpiLibrary.Abi.Kind == MpiAbi.OpenMpi;
            return s_instance = new Mpi4py(mpi.GetAttr("Intracomm"), mpi.GetAttr("Comm"), mpi.GetAttr("COMM_NULL"))
            {
                HandleOffset = FindHandleOffset(mpi, pointer),
                HandleIsPointer = pointer,
            };
        }

        /// <summary>
        /// 16 (after ob_refcnt and ob_type) when both COMM_WORLD and COMM_SELF hold there exactly what
        /// <c>MPI._handleof</c> reports, as mpi4py 3 and 4 lay out <c>cdef class Comm: cdef MPI_Comm ob_mpi</c>; else 0.
        /// </summary>
        private static int FindHandleOffset(PyObject mpi, bool pointer)
        {
            const int offset = 16;
            foreach (string name in (string[])["COMM_WORLD", "COMM_SELF"])
            {
                using var comm = mpi.GetAttr(name);
                using var handleOf = mpi.CallMethod("_handleof", comm);
                nint expected = (nint)handleOf.As<long>();
                var o = comm.Borrow();
                nint actual = pointer ? o.ReadPointerField(offset) : (nint)o.ReadUInt32Field(offset);
                if (actual != expected) return 0;
            }
            return offset;
        }
    }
}
