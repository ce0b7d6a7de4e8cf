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
        int fortran = comm.ToFortran();
        using var intracomm = Mpi4pyIntracomm();
        return intracomm.CallMethod("f2py", fortran);
    }

    /// <summary>
    /// A C# view of an mpi4py communicator (needs the GIL). The view does not own the handle: disposing it leaves
    /// the communicator alone; Python, which created it, frees it.
    /// </summary>
    /// <exception cref="ArgumentException">The object is not an mpi4py communicator, or is <c>MPI.COMM_NULL</c>.</exception>
    public static Comm FromMpi4py(PyObject mpi4pyComm)
    {
        ArgumentNullException.ThrowIfNull(mpi4pyComm);
        using var mpi = Py.Import("mpi4py.MPI");
        using var commType = mpi.GetAttr("Comm");
        if (!mpi4pyComm.IsInstance(commType))
            throw new ArgumentException($"expected an mpi4py communicator (mpi4py.MPI.Comm), got a Python {mpi4pyComm.TypeName}.", nameof(mpi4pyComm));
        using var commNull = mpi.GetAttr("COMM_NULL");
        if (mpi4pyComm.PythonEquals(commNull))
            throw new ArgumentException("the mpi4py communicator is MPI.COMM_NULL (freed, or this rank is not a member).", nameof(mpi4pyComm));
        using var fortran = mpi4pyComm.CallMethod("py2f");
        return Comm.FromFortran(fortran.As<int>(), ownsHandle: false);
    }

    private static PyObject Mpi4pyIntracomm()
    {
        using var mpi = Py.Import("mpi4py.MPI");
        return mpi.GetAttr("Intracomm");
    }
}
