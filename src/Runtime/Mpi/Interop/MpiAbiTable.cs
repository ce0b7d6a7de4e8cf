namespace PyMpiBridge.Mpi.Interop;

/// <summary>The predefined MPI reduction operations, in the order of <see cref="MpiAbiTable.Ops"/>.</summary>
internal enum PredefinedOp { Sum, Prod, Min, Max, Land, Lor, Lxor, Band, Bor, Bxor }

/// <summary>
/// Everything that differs between MPI ABIs and that a C program would get from <c>mpi.h</c>:
/// predefined handles, sentinels, special ranks, the <c>MPI_Status</c> layout, error classes.
/// One instance per loaded library, built by <see cref="OpenMpiAbi"/> or <see cref="MpichAbi"/>.
/// All handles are <c>nint</c>: Open MPI's are addresses, MPICH's are 32-bit values zero-extended.
/// </summary>
internal sealed class MpiAbiTable
{
    public required MpiAbi Kind { get; init; }
    /// <summary>Bytes of one MPI handle in C arrays (MPI_Request[] for Waitall): 8 for Open MPI, 4 for MPICH.</summary>
    public required int HandleSize { get; init; }
    /// <summary>sizeof(MPI_Status): Open MPI 24, MPICH 20.</summary>
    public required int StatusSize { get; init; }

    public required nint CommWorld { get; init; }
    public required nint CommSelf { get; init; }
    public required nint CommNull { get; init; }
    public required nint GroupEmpty { get; init; }
    public required nint GroupNull { get; init; }
    public required nint RequestNull { get; init; }
    public required nint OpNull { get; init; }
    public required nint ErrorsReturn { get; init; }
    public required nint DatatypeNull { get; init; }
    /// <summary>Indexed by <see cref="PrimitiveDatatype"/>.</summary>
    public required nint[] Datatypes { get; init; }
    /// <summary>Indexed by <see cref="PredefinedOp"/>.</summary>
    public required nint[] Ops { get; init; }

    public required nint InPlace { get; init; }
    public required nint StatusIgnore { get; init; }
    public required nint StatusesIgnore { get; init; }

    public required int AnySource { get; init; }
    public required int AnyTag { get; init; }
    public required int ProcNull { get; init; }
    public required int Undefined { get; init; }

    public required int MaxErrorString { get; init; }
    public required int MaxLibraryVersionString { get; init; }
    public required int MaxProcessorName { get; init; }

    /// <summary>ABI error class number → our enum; classes not listed map to <see cref="MpiErrorClass.Other"/>.</summary>
    public required IReadOnlyDictionary<int, MpiErrorClass> ErrorClasses { get; init; }

    public nint Datatype(PrimitiveDatatype type) => Datatypes[(int)type];
    public nint Op(PredefinedOp op) => Ops[(int)op];

    public MpiErrorClass MapErrorClass(int abiClass)
        => ErrorClasses.TryGetValue(abiClass, out var c) ? c : MpiErrorClass.Other;
}
