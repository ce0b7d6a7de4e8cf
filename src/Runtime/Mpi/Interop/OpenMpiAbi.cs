using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Open MPI ABI (libmpi.so.40). Predefined handles are the ADDRESSES of exported globals
/// (<c>#define MPI_COMM_WORLD ((MPI_Comm)&amp;ompi_mpi_comm_world)</c>): we resolve them with dlsym
/// and never dereference them. Integer constants checked with <c>mpicc</c> (Open MPI 4.1.4).
/// </summary>
internal static class OpenMpiAbi
{
    public const string CommWorldSymbol = "ompi_mpi_comm_world";

    /// <summary>The exported symbols behind each predefined handle we use (pinned by a unit test).</summary>
    public static readonly string[] DatatypeSymbols =
    [
        "ompi_mpi_signed_char", "ompi_mpi_unsigned_char", "ompi_mpi_short", "ompi_mpi_unsigned_short",
        "ompi_mpi_int", "ompi_mpi_unsigned", "ompi_mpi_long", "ompi_mpi_unsigned_long",
        "ompi_mpi_float", "ompi_mpi_double", "ompi_mpi_c_bool", "ompi_mpi_c_double_complex", "ompi_mpi_byte",
        "ompi_mpi_c_float_complex",
    ];

    public static readonly string[] OpSymbols =
    [
        "ompi_mpi_op_sum", "ompi_mpi_op_prod", "ompi_mpi_op_min", "ompi_mpi_op_max", "ompi_mpi_op_land",
        "ompi_mpi_op_lor", "ompi_mpi_op_lxor", "ompi_mpi_op_band", "ompi_mpi_op_bor", "ompi_mpi_op_bxor",
    ];

    public static readonly string[] OtherSymbols =
    [
        CommWorldSymbol, "ompi_mpi_comm_self", "ompi_mpi_comm_null", "ompi_mpi_group_empty", "ompi_mpi_group_null",
        "ompi_request_null", "ompi_mpi_op_null", "ompi_mpi_errors_return", "ompi_mpi_datatype_null",
    ];

    public const int StatusSize = 24;

    public static MpiAbiTable Create(nint library, string libraryName)
    {
        nint S(string name) => Libdl.RequiredSymbol(library, name, libraryName);
        return new MpiAbiTable
        {
            Kind = MpiAbi.OpenMpi,
            HandleSize = nint.Size,
            StatusSize = StatusSize,
            CommWorld = S(CommWorldSymbol), CommSelf = S("ompi_mpi_comm_self"), CommNull = S("ompi_mpi_comm_null"),
            GroupEmpty = S("ompi_mpi_group_empty"), GroupNull = S("ompi_mpi_group_null"),
            RequestNull = S("ompi_request_null"), OpNull = S("ompi_mpi_op_null"),
            ErrorsReturn = S("ompi_mpi_errors_return"), DatatypeNull = S("ompi_mpi_datatype_null"),
            Datatypes = Array.ConvertAll(DatatypeSymbols, S),
            Ops = Array.ConvertAll(OpSymbols, S),
            InPlace = 1,         // (void*)1
            StatusIgnore = 0,    // NULL
            StatusesIgnore = 0,
            AnySource = -1, AnyTag = -1, ProcNull = -2, Undefined = -32766,
            MaxErrorString = 256, MaxLibraryVersionString = 256, MaxProcessorName = 256,
            // Open MPI numbers the classes in the standard's order (MPI_ERR_REQUEST = 7 ... ).
            ErrorClasses = new Dictionary<int, MpiErrorClass>
            {
                [0] = MpiErrorClass.Success, [1] = MpiErrorClass.Buffer, [2] = MpiErrorClass.Count, [3] = MpiErrorClass.Type,
                [4] = MpiErrorClass.Tag, [5] = MpiErrorClass.Comm, [6] = MpiErrorClass.Rank, [7] = MpiErrorClass.Request,
                [8] = MpiErrorClass.Root, [9] = MpiErrorClass.Group, [10] = MpiErrorClass.Op, [11] = MpiErrorClass.Topology,
                [12] = MpiErrorClass.Dims, [13] = MpiErrorClass.Arg, [14] = MpiErrorClass.Unknown, [15] = MpiErrorClass.Truncate,
                [16] = MpiErrorClass.Other, [17] = MpiErrorClass.Intern, [18] = MpiErrorClass.InStatus, [19] = MpiErrorClass.Pending,
                [39] = MpiErrorClass.NoMem,
            },
        };
    }
}
