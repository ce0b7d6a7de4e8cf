using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// The MPI C API as unmanaged function pointers, resolved once from the loaded library.
/// <para>
/// Handles are passed as <c>nint</c> for both ABIs. For MPICH the C parameter is an <c>int</c>; on the
/// x86-64 System V and AArch64 calling conventions a 32-bit argument travels in a 64-bit register or
/// 8-byte stack slot whose upper half the callee ignores, so the zero-extended value is passed correctly.
/// Out-parameters are <c>nint*</c> pointing at a zeroed <c>nint</c>: MPICH writes the low 4 bytes
/// (little-endian), which leaves the value zero-extended. Arrays of handles are NOT interchangeable:
/// those go through <see cref="HandleArray"/>, which packs 4- or 8-byte elements.
/// </para>
/// Blocking functions must be called between <see cref="BlockingRegion.Enter"/> and
/// <see cref="BlockingRegion.Exit"/> so the bridge can release the Python GIL around them.
/// </summary>
internal static unsafe class MpiNative
{
    // --- environment ---
    public static delegate* unmanaged<int*, byte***, int, int*, int> Init_thread;
    public static delegate* unmanaged<int*, int> Initialized;
    public static delegate* unmanaged<int*, int> Finalized;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<nint, int, int> Abort;
    public static delegate* unmanaged<int*, int> Query_thread;
    public static delegate* unmanaged<byte*, int*, int> Get_library_version;
    public static delegate* unmanaged<int*, int*, int> Get_version;
    public static delegate* unmanaged<byte*, int*, int> Get_processor_name;
    public static delegate* unmanaged<double> Wtime;
    public static delegate* unmanaged<double> Wtick;
    public static delegate* unmanaged<int, int*, int> Error_class;
    public static delegate* unmanaged<int, byte*, int*, int> Error_string;

    // --- communicators and groups ---
    public static delegate* unmanaged<nint, nint, int> Comm_set_errhandler;
    public static delegate* unmanaged<nint, int*, int> Comm_rank;
    public static delegate* unmanaged<nint, int*, int> Comm_size;
    public static delegate* unmanaged<nint, nint*, int> Comm_dup;
    public static delegate* unmanaged<nint, int, int, nint*, int> Comm_split;
    public static delegate* unmanaged<nint, nint, nint*, int> Comm_create;
    public static delegate* unmanaged<nint, nint, int*, int> Comm_compare;
    public static delegate* unmanaged<nint*, int> Comm_free;
    public static delegate* unmanaged<nint, nint*, int> Comm_group;
    /// <summary>Null for MPICH, where c2f/f2c are macros (the identity on the int handle).</summary>
    public static delegate* unmanaged<nint, int> Comm_c2f;
    public static delegate* unmanaged<int, nint> Comm_f2c;
    public static delegate* unmanaged<nint, int, int*, nint*, int> Group_incl;
    public static delegate* unmanaged<nint, int, int*, nint*, int> Group_excl;
    public static delegate* unmanaged<nint, int, int*, nint, int*, int> Group_translate_ranks;
    public static delegate* unmanaged<nint, int*, int> Group_size;
    public static delegate* unmanaged<nint, int*, int> Group_rank;
    public static delegate* unmanaged<nint*, int> Group_free;

    // --- point-to-point ---
    public static delegate* unmanaged<void*, int, nint, int, int, nint, int> Send;
    public static delegate* unmanaged<void*, int, nint, int, int, nint, int> Ssend;
    public static delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Recv;
    public static delegate* unmanaged<void*, int, nint, int, int, void*, int, nint, int, int, nint, void*, int> Sendrecv;
    public static delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Isend;
    public static delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Irecv;
    public static delegate* unmanaged<int, int, nint, void*, int> Probe;
    public static delegate* unmanaged<int, int, nint, int*, void*, int> Iprobe;
    public static delegate* unmanaged<int, int, nint, nint*, void*, int> Mprobe;
    public static delegate* unmanaged<void*, int, nint, nint*, void*, int> Mrecv;

    // --- requests ---
    public static delegate* unmanaged<nint*, void*, int> Wait;
    public static delegate* unmanaged<nint*, int*, void*, int> Test;
    public static delegate* unmanaged<nint*, int> Cancel;
    public static delegate* unmanaged<nint*, int> Request_free;
    public static delegate* unmanaged<int, void*, void*, int> Waitall;
    public static delegate* unmanaged<int, void*, int*, void*, int> Waitany;
    /// <summary>MPI_Waitsome(incount, requests[], *outcount, indices[], statuses[]).</summary>
    public static delegate* unmanaged<int, void*, int*, int*, void*, int> Waitsome;
    public static delegate* unmanaged<int, void*, int*, void*, int> Testall;

    // --- collectives ---
    public static delegate* unmanaged<nint, int> Barrier;
    public static delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public static delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int> Scatter;
    public static delegate* unmanaged<void*, int*, int*, nint, void*, int, nint, int, nint, int> Scatterv;
    public static delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int> Gather;
    public static delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int> Gatherv;
    public static delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Allgather;
    public static delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> Allgatherv;
    public static delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Alltoall;
    public static delegate* unmanaged<void*, int*, int*, nint, void*, int*, int*, nint, nint, int> Alltoallv;
    public static delegate* unmanaged<void*, void*, int, nint, nint, int, nint, int> Reduce;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Reduce_scatter_block;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Scan;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Exscan;
    public static delegate* unmanaged<nint, nint*, int> Ibarrier;
    public static delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast;
    public static delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;

    // --- datatypes ---
    public static delegate* unmanaged<nint, int*, int> Type_size;

    // --- user-defined operations ---
    public static delegate* unmanaged<void*, int, nint*, int> Op_create;
    public static delegate* unmanaged<nint*, int> Op_free;

    /// <summary>Resolves every function; a missing one throws naming the symbol and the library.</summary>
    public static void Bind(nint lib, string name)
    {
        nint R(string symbol) => Libdl.RequiredSymbol(lib, symbol, name);

        Init_thread = (delegate* unmanaged<int*, byte***, int, int*, int>)R("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)R("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)R("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)R("MPI_Finalize");
        Abort = (delegate* unmanaged<nint, int, int>)R("MPI_Abort");
        Query_thread = (delegate* unmanaged<int*, int>)R("MPI_Query_thread");
        Get_library_version = (delegate* unmanaged<byte*, int*, int>)R("MPI_Get_library_version");
        Get_version = (delegate* unmanaged<int*, int*, int>)R("MPI_Get_version");
        Get_processor_name = (delegate* unmanaged<byte*, int*, int>)R("MPI_Get_processor_name");
        Wtime = (delegate* unmanaged<double>)R("MPI_Wtime");
        Wtick = (delegate* unmanaged<double>)R("MPI_Wtick");
        Error_class = (delegate* unmanaged<int, int*, int>)R("MPI_Error_class");
        Error_string = (delegate* unmanaged<int, byte*, int*, int>)R("MPI_Error_string");

        Type_size = (delegate* unmanaged<nint, int*, int>)R("MPI_Type_size");
        Comm_set_errhandler = (delegate* unmanaged<nint, nint, int>)R("MPI_Comm_set_errhandler");
        Comm_rank = (delegate* unmanaged<nint, int*, int>)R("MPI_Comm_rank");
        Comm_size = (delegate* unmanaged<nint, int*, int>)R("MPI_Comm_size");
        Comm_dup = (delegate* unmanaged<nint, nint*, int>)R("MPI_Comm_dup");
        Comm_split = (delegate* unmanaged<nint, int, int, nint*, int>)R("MPI_Comm_split");
        Comm_create = (delegate* unmanaged<nint, nint, nint*, int>)R("MPI_Comm_create");
        Comm_compare = (delegate* unmanaged<nint, nint, int*, int>)R("MPI_Comm_compare");
        Comm_free = (delegate* unmanaged<nint*, int>)R("MPI_Comm_free");
        Comm_group = (delegate* unmanaged<nint, nint*, int>)R("MPI_Comm_group");
        Comm_c2f = (delegate* unmanaged<nint, int>)Libdl.Symbol(lib, "MPI_Comm_c2f");
        Comm_f2c = (delegate* unmanaged<int, nint>)Libdl.Symbol(lib, "MPI_Comm_f2c");
        Group_incl = (delegate* unmanaged<nint, int, int*, nint*, int>)R("MPI_Group_incl");
        Group_excl = (delegate* unmanaged<nint, int, int*, nint*, int>)R("MPI_Group_excl");
        Group_translate_ranks = (delegate* unmanaged<nint, int, int*, nint, int*, int>)R("MPI_Group_translate_ranks");
        Group_size = (delegate* unmanaged<nint, int*, int>)R("MPI_Group_size");
        Group_rank = (delegate* unmanaged<nint, int*, int>)R("MPI_Group_rank");
        Group_free = (delegate* unmanaged<nint*, int>)R("MPI_Group_free");

        Send = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)R("MPI_Send");
        Ssend = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)R("MPI_Ssend");
        Recv = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)R("MPI_Recv");
        Sendrecv = (delegate* unmanaged<void*, int, nint, int, int, void*, int, nint, int, int, nint, void*, int>)R("MPI_Sendrecv");
        Isend = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)R("MPI_Isend");
        Irecv = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)R("MPI_Irecv");
        Probe = (delegate* unmanaged<int, int, nint, void*, int>)R("MPI_Probe");
        Iprobe = (delegate* unmanaged<int, int, nint, int*, void*, int>)R("MPI_Iprobe");
        Mprobe = (delegate* unmanaged<int, int, nint, nint*, void*, int>)R("MPI_Mprobe");
        Mrecv = (delegate* unmanaged<void*, int, nint, nint*, void*, int>)R("MPI_Mrecv");

        Wait = (delegate* unmanaged<nint*, void*, int>)R("MPI_Wait");
        Test = (delegate* unmanaged<nint*, int*, void*, int>)R("MPI_Test");
        Cancel = (delegate* unmanaged<nint*, int>)R("MPI_Cancel");
        Request_free = (delegate* unmanaged<nint*, int>)R("MPI_Request_free");
        Waitall = (delegate* unmanaged<int, void*, void*, int>)R("MPI_Waitall");
        Waitany = (delegate* unmanaged<int, void*, int*, void*, int>)R("MPI_Waitany");
        Waitsome = (delegate* unmanaged<int, void*, int*, int*, void*, int>)R("MPI_Waitsome");
        Testall = (delegate* unmanaged<int, void*, int*, void*, int>)R("MPI_Testall");

        Barrier = (delegate* unmanaged<nint, int>)R("MPI_Barrier");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)R("MPI_Bcast");
        Scatter = (delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int>)R("MPI_Scatter");
        Scatterv = (delegate* unmanaged<void*, int*, int*, nint, void*, int, nint, int, nint, int>)R("MPI_Scatterv");
        Gather = (delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int>)R("MPI_Gather");
        Gatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int>)R("MPI_Gatherv");
        Allgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)R("MPI_Allgather");
        Allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)R("MPI_Allgatherv");
        Alltoall = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)R("MPI_Alltoall");
        Alltoallv = (delegate* unmanaged<void*, int*, int*, nint, void*, int*, int*, nint, nint, int>)R("MPI_Alltoallv");
        Reduce = (delegate* unmanaged<void*, void*, int, nint, nint, int, nint, int>)R("MPI_Reduce");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)R("MPI_Allreduce");
        Reduce_scatter_block = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)R("MPI_Reduce_scatter_block");
        Scan = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)R("MPI_Scan");
        Exscan = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)R("MPI_Exscan");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)R("MPI_Ibarrier");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)R("MPI_Ibcast");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)R("MPI_Iallreduce");

        Op_create = (delegate* unmanaged<void*, int, nint*, int>)R("MPI_Op_create");
        Op_free = (delegate* unmanaged<nint*, int>)R("MPI_Op_free");
    }
}
