using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>An ordered set of processes (<c>MPI_Group</c>), used to build communicators with <see cref="Comm.Create"/>. Dispose when done.</summary>
public sealed class Group : IDisposable
{
    private nint _handle;

    internal unsafe Group(nint handle)
    {
        _handle = handle;
        int size = 0, rank = 0;
        MpiError.Check(MpiNative.Group_size(handle, &size), "MPI_Group_size");
        MpiError.Check(MpiNative.Group_rank(handle, &rank), "MPI_Group_rank");
        Size = size;
        Rank = rank == MpiLibrary.Abi.Undefined ? MpiEnvironment.Undefined : rank;
    }

    /// <summary>Number of processes in the group.</summary>
    public int Size { get; }

    /// <summary>This process's rank in the group, or <see cref="MpiEnvironment.Undefined"/> when it is not a member.</summary>
    public int Rank { get; }

    /// <summary>A group of the listed ranks of this group, in that order (<c>MPI_Group_incl</c>).</summary>
    public unsafe Group Incl(ReadOnlySpan<int> ranks)
    {
        CheckRanks(ranks, nameof(ranks));
        nint result = 0;
        fixed (int* p = ranks)
            MpiError.Check(MpiNative.Group_incl(Live(), ranks.Length, p, &result), "MPI_Group_incl");
        return new Group(result);
    }

    /// <summary>This group without the listed ranks (<c>MPI_Group_excl</c>).</summary>
    public unsafe Group Excl(ReadOnlySpan<int> ranks)
    {
        CheckRanks(ranks, nameof(ranks));
        nint result = 0;
        fixed (int* p = ranks)
            MpiError.Check(MpiNative.Group_excl(Live(), ranks.Length, p, &result), "MPI_Group_excl");
        return new Group(result);
    }

    /// <summary>
    /// The ranks in <paramref name="other"/> of the processes with <paramref name="ranks"/> in this group
    /// (<c>MPI_Group_translate_ranks</c>); <see cref="MpiEnvironment.Undefined"/> where a process is not in <paramref name="other"/>.
    /// </summary>
    public unsafe int[] TranslateRanks(ReadOnlySpan<int> ranks, Group other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CheckRanks(ranks, nameof(ranks));
        int[] result = new int[ranks.Length];
        fixed (int* p = ranks)
        fixed (int* r = result)
            MpiError.Check(MpiNative.Group_translate_ranks(Live(), ranks.Length, p, other.Live(), r), "MPI_Group_translate_ranks");
        int undefined = MpiLibrary.Abi.Undefined;
        for (int i = 0; i < result.Length; i++)
            if (result[i] == undefined) result[i] = MpiEnvironment.Undefined;
        return result;
    }

    /// <summary>Frees the group (<c>MPI_Group_free</c>); the empty group is predefined and never freed.</summary>
    public unsafe void Dispose()
    {
        nint handle = _handle;
        if (handle == 0) return;
        _handle = 0;
        if (handle == MpiLibrary.Abi.GroupEmpty || !MpiEnvironment.IsInitialized || MpiEnvironment.IsFinalized) return;
        MpiError.Check(MpiNative.Group_free(&handle), "MPI_Group_free");
    }

    /// <inheritdoc/>
    public override string ToString() => $"Group(size {Size}, rank {Rank})";

    internal nint Live()
    {
        if (MpiEnvironment.IsFinalized) throw new InvalidOperationException("MPI has been finalized; groups can no longer be used.");
        return _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(Group));
    }

    private void CheckRanks(ReadOnlySpan<int> ranks, string paramName)
    {
        foreach (int r in ranks)
            if ((uint)r >= (uint)Size)
                throw new ArgumentOutOfRangeException(paramName, r, $"Rank {r} is not in this group of {Size} processes (valid: 0..{Size - 1}).");
    }
}
