namespace PyMpiBridge.Mpi;

/// <summary>The binary interface of the loaded MPI library; decides handle sizes, constants and the status layout.</summary>
public enum MpiAbi
{
    /// <summary>Open MPI (libmpi.so.40): handles are addresses of exported globals.</summary>
    OpenMpi,
    /// <summary>MPICH and derivatives (libmpich.so.12): handles are 32-bit integers.</summary>
    Mpich,
}

/// <summary>Thread support level (<c>MPI_THREAD_*</c>; same values in both ABIs).</summary>
public enum ThreadLevel
{
    /// <summary>Only one thread will execute.</summary>
    Single = 0,
    /// <summary>Only the thread that initialized MPI makes MPI calls.</summary>
    Funneled = 1,
    /// <summary>Any thread may call MPI, one at a time.</summary>
    Serialized = 2,
    /// <summary>Any thread may call MPI at any time.</summary>
    Multiple = 3,
}

/// <summary>Result of <see cref="Comm.Compare"/> (<c>MPI_IDENT</c> ... <c>MPI_UNEQUAL</c>; same values in both ABIs).</summary>
public enum CommComparison
{
    /// <summary>The same communicator.</summary>
    Identical = 0,
    /// <summary>Same group, same rank order, different context (e.g. a Dup).</summary>
    Congruent = 1,
    /// <summary>Same members, different rank order.</summary>
    Similar = 2,
    /// <summary>Different members.</summary>
    Unequal = 3,
}
