namespace PyMpiBridge.Mpi;

/// <summary>
/// MPI error classes under one numbering; each ABI numbers them differently (Open MPI's
/// MPI_ERR_TRUNCATE is 15, MPICH's 14), the ABI tables translate.
/// </summary>
public enum MpiErrorClass
{
    /// <summary>No error.</summary>
    Success,
    /// <summary>Invalid buffer pointer.</summary>
    Buffer,
    /// <summary>Invalid count.</summary>
    Count,
    /// <summary>Invalid datatype.</summary>
    Type,
    /// <summary>Invalid tag.</summary>
    Tag,
    /// <summary>Invalid communicator.</summary>
    Comm,
    /// <summary>Invalid rank.</summary>
    Rank,
    /// <summary>Invalid request.</summary>
    Request,
    /// <summary>Invalid root.</summary>
    Root,
    /// <summary>Invalid group.</summary>
    Group,
    /// <summary>Invalid operation.</summary>
    Op,
    /// <summary>Invalid topology.</summary>
    Topology,
    /// <summary>Invalid dimensions.</summary>
    Dims,
    /// <summary>Invalid argument.</summary>
    Arg,
    /// <summary>Unknown error.</summary>
    Unknown,
    /// <summary>Message truncated on receive: the buffer was too small.</summary>
    Truncate,
    /// <summary>Another error (also every class without its own entry here).</summary>
    Other,
    /// <summary>Internal MPI error.</summary>
    Intern,
    /// <summary>Error code is in the status (multi-request completion).</summary>
    InStatus,
    /// <summary>Pending request.</summary>
    Pending,
    /// <summary>Out of memory.</summary>
    NoMem,
}
