namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// MPICH ABI (libmpich.so.12; also Intel MPI, MVAPICH). Handles are 32-bit integer constants.
/// Every value below was printed by a C program compiled with <c>mpicc.mpich</c> (MPICH 4.0.2) and
/// is pinned by a unit test. MPICH writes 4-byte handles into out-parameters and arrays.
/// </summary>
internal static class MpichAbi
{
    /// <summary>MPICH handles are ints; we keep them zero-extended in an nint so they round-trip.</summary>
    private static nint H(uint value) => (nint)value;

    public const uint CommWorld = 0x44000000, CommSelf = 0x44000001, CommNull = 0x04000000;
    public const uint GroupEmpty = 0x48000000, GroupNull = 0x08000000;
    public const uint RequestNull = 0x2c000000, OpNull = 0x18000000, ErrorsReturn = 0x54000001, DatatypeNull = 0x0c000000;

    public const uint SignedChar = 0x4c000118, UnsignedChar = 0x4c000102, Short = 0x4c000203, UnsignedShort = 0x4c000204;
    public const uint Int = 0x4c000405, Unsigned = 0x4c000406, Long = 0x4c000807, UnsignedLong = 0x4c000808;
    public const uint Float = 0x4c00040a, Double = 0x4c00080b, CBool = 0x4c00013f, CDoubleComplex = 0x4c001041, Byte = 0x4c00010d;
    public const uint CFloatComplex = 0x4c000840;

    public const uint Sum = 0x58000003, Prod = 0x58000004, Min = 0x58000002, Max = 0x58000001, Land = 0x58000005;
    public const uint Lor = 0x58000007, Lxor = 0x58000009, Band = 0x58000006, Bor = 0x58000008, Bxor = 0x5800000a;

    public const int StatusSize = 20;

    public static MpiAbiTable Create() => new()
    {
        Kind = MpiAbi.Mpich,
        HandleSize = 4,
        StatusSize = StatusSize,
        CommWorld = H(CommWorld), CommSelf = H(CommSelf), CommNull = H(CommNull),
        GroupEmpty = H(GroupEmpty), GroupNull = H(GroupNull),
        RequestNull = H(RequestNull), OpNull = H(OpNull), ErrorsReturn = H(ErrorsReturn), DatatypeNull = H(DatatypeNull),
        Datatypes =
        [
            H(SignedChar), H(UnsignedChar), H(Short), H(UnsignedShort), H(Int), H(Unsigned),
            H(Long), H(UnsignedLong), H(Float), H(Double), H(CBool), H(CDoubleComplex), H(Byte), H(CFloatComplex),
        ],
        Ops = [H(Sum), H(Prod), H(Min), H(Max), H(Land), H(Lor), H(Lxor), H(Band), H(Bor), H(Bxor)],
        InPlace = -1,        // (void*)-1
        StatusIgnore = 1,    // (MPI_Status*)1 — not NULL as in Open MPI
        StatusesIgnore = 1,
        AnySource = -2, AnyTag = -1, ProcNull = -1, Undefined = -32766,
        MaxErrorString = 512, MaxLibraryVersionString = 8192, MaxProcessorName = 128,
        ErrorClasses = new Dictionary<int, MpiErrorClass>
        {
            [0] = MpiErrorClass.Success, [1] = MpiErrorClass.Buffer, [2] = MpiErrorClass.Count, [3] = MpiErrorClass.Type,
            [4] = MpiErrorClass.Tag, [5] = MpiErrorClass.Comm, [6] = MpiErrorClass.Rank, [7] = MpiErrorClass.Root,
            [8] = MpiErrorClass.Group, [9] = MpiErrorClass.Op, [10] = MpiErrorClass.Topology, [11] = MpiErrorClass.Dims,
            [12] = MpiErrorClass.Arg, [13] = MpiErrorClass.Unknown, [14] = MpiErrorClass.Truncate, [15] = MpiErrorClass.Other,
            [16] = MpiErrorClass.Intern, [17] = MpiErrorClass.InStatus, [18] = MpiErrorClass.Pending, [19] = MpiErrorClass.Request,
            [34] = MpiErrorClass.NoMem,
        },
    };
}
