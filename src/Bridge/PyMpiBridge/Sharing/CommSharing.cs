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
    /// mpi4py's communicator types and COMM_NULL, looked up once: exported C# functions taking a Comm convert on every
    /// call. Held for the process lifetime, like the one interpreter they belong to. Caller holds the GIL.
    /// </summary>
    private sealed record Mpi4py(PyObject Intracomm, PyObject CommType, PyObject CommNull)
    {
        private static Mpi4py? s_instance;

        public static Mpi4py Get()
        {
            if (s_instance is { } cached) return cached;
            using var mpi = Py.Import("mpi4py.MPI");
            return s_instance = new Mpi4py(mpi.GetAttr("Intracomm"), mpi.GetAttr("Comm"), mpi.GetAttr("COMM_NULL"));
        }
    }
}
