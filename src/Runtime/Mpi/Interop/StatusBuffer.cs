using System.Buffers.Binary;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Room for one C <c>MPI_Status</c> of either ABI (24 bytes ≥ Open MPI 24, MPICH 20), on the stack.
/// Zeroed before use: MPICH's probe leaves the cancelled bit unset rather than cleared.
/// </summary>
internal struct StatusBuffer
{
    public int I0, I1, I2, I3, I4, I5;

    public readonly Status ToStatus() => MpiLibrary.IsMpich
        // MPICH: count_lo, count_hi_and_cancelled (count_hi << 1 | cancelled), MPI_SOURCE, MPI_TAG, MPI_ERROR
        ? new Status(Status.SourceFromAbi(I2), I3, I4, (I1 & 1) != 0, ((long)(I1 >>> 1) << 32) | (uint)I0)
        // Open MPI: MPI_SOURCE, MPI_TAG, MPI_ERROR, _cancelled, size_t _ucount (bytes)
        : new Status(Status.SourceFromAbi(I0), I1, I2, I3 != 0, (long)(((ulong)(uint)I5 << 32) | (uint)I4));

    /// <summary>Parses element <paramref name="index"/> of a C <c>MPI_Status[]</c> with the ABI's stride.</summary>
    public static Status Read(ReadOnlySpan<byte> statuses, int index)
    {
        var s = statuses.Slice(index * MpiLibrary.Abi.StatusSize);
        StatusBuffer b = default;
        b.I0 = BinaryPrimitives.ReadInt32LittleEndian(s);
        b.I1 = BinaryPrimitives.ReadInt32LittleEndian(s[4..]);
        b.I2 = BinaryPrimitives.ReadInt32LittleEndian(s[8..]);
        b.I3 = BinaryPrimitives.ReadInt32LittleEndian(s[12..]);
        b.I4 = BinaryPrimitives.ReadInt32LittleEndian(s[16..]);
        if (s.Length >= 24) b.I5 = BinaryPrimitives.ReadInt32LittleEndian(s[20..]);
        return b.ToStatus();
    }
}

/// <summary>
/// A C array of MPI handles (MPI_Request[] for Waitall/Waitany/Testall) in the ABI's element size:
/// 8-byte pointers for Open MPI, 4-byte ints for MPICH. Passing an nint[] to MPICH would make it read
/// every second handle as garbage.
/// </summary>
internal static class HandleArray
{
    public static int ByteLength(int count) => count * MpiLibrary.Abi.HandleSize;

    public static void Write(Span<byte> array, int index, nint handle)
    {
        if (MpiLibrary.IsMpich) BinaryPrimitives.WriteUInt32LittleEndian(array[(index * 4)..], (uint)handle);
        else BinaryPrimitives.WriteInt64LittleEndian(array[(index * 8)..], handle);
    }

    public static nint Read(ReadOnlySpan<byte> array, int index) => MpiLibrary.IsMpich
        ? (nint)BinaryPrimitives.ReadUInt32LittleEndian(array[(index * 4)..])
        : (nint)BinaryPrimitives.ReadInt64LittleEndian(array[(index * 8)..]);
}
