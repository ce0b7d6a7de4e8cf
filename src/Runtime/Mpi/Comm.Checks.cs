using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

// Argument checks made BEFORE calling MPI, so mistakes get a message that says what to do instead of
// an MPI error code (or, for some implementations, a crash). The common case is one unsigned compare.
//
// Collectives: a check every rank makes on the same values (the root, the op) throws on every rank alike.
// A check on what only this rank holds (its buffers, root's counts) goes through FailCollective: thrown on a
// one-rank communicator, but otherwise the other ranks are already entering the collective and would wait for
// this one forever if it only threw here (a Python try around a C# kernel catches it on this rank alone), so
// the job ends with the reason.
public sealed partial class Comm
{
    /// <summary>Validates a destination rank and maps <see cref="ProcNull"/> to the ABI's value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DestRank(int dest, string paramName = "dest")
    {
        if ((uint)dest < (uint)Size) return dest;
        return SpecialDest(dest, paramName);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int SpecialDest(int dest, string paramName)
    {
        if (dest == ProcNull) return MpiLibrary.Abi.ProcNull;
        throw new ArgumentOutOfRangeException(paramName, dest,
            $"Destination rank {dest} is out of range: communicator '{Name}' has {Size} rank(s) (valid: 0..{Size - 1}, or Comm.ProcNull for a send that does nothing).");
    }

    /// <summary>Validates a source rank and maps <see cref="AnySource"/>/<see cref="ProcNull"/> to the ABI's values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SourceRank(int source, string paramName = "source")
    {
        if ((uint)source < (uint)Size) return source;
        return SpecialSource(source, paramName);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int SpecialSource(int source, string paramName)
    {
        if (source == AnySource) return MpiLibrary.Abi.AnySource;
        if (source == ProcNull) return MpiLibrary.Abi.ProcNull;
        throw new ArgumentOutOfRangeException(paramName, source,
            $"Source rank {source} is out of range: communicator '{Name}' has {Size} rank(s) (valid: 0..{Size - 1}, Comm.AnySource or Comm.ProcNull).");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckSendTag(int tag, string paramName = "tag")
    {
        if (tag < 0) ThrowSendTag(tag, paramName);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowSendTag(int tag, string paramName) => throw new ArgumentOutOfRangeException(paramName, tag,
        $"Tag {tag} is negative: message tags must be >= 0 (Comm.AnyTag is only valid when receiving or probing).");

    /// <summary>Receive tags: >= 0 or <see cref="AnyTag"/> (-1 in both ABIs, so no mapping is needed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckRecvTag(int tag, string paramName = "tag")
    {
        if (tag < AnyTag) ThrowRecvTag(tag, paramName);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRecvTag(int tag, string paramName) => throw new ArgumentOutOfRangeException(paramName, tag,
        $"Tag {tag} is negative: receive tags must be >= 0 or Comm.AnyTag.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRoot(int root)
    {
        if ((uint)root >= (uint)Size) ThrowRoot(root);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowRoot(int root) => throw new ArgumentOutOfRangeException(nameof(root), root,
        $"Root rank {root} is out of range: communicator '{Name}' has {Size} rank(s) (valid: 0..{Size - 1}).");

    /// <summary>
    /// A collective cannot start on this rank because of <paramref name="error"/>, found in what only this rank holds.
    /// Returns the error to throw on a one-rank communicator; on a larger one, aborts the job with the reason, rank
    /// and communicator (see the note at the top of this file).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal Exception FailCollective(Exception error)
    {
        if (Size == 1) return error;
        MpiEnvironment.Abort(1,
            $"a collective on communicator '{Name}' (rank {Rank} of {Size}) cannot start on this rank: {error.GetType().Name}: {error.Message}\n" +
            "The other ranks are already in that collective and would wait for this one forever, so the job ends here.");
        return error; // not reached
    }

    /// <summary>
    /// Checks a per-rank counts array (v-collectives): one entry per rank, none negative, and that the
    /// buffer holds them at the given (or packed) displacements. Returns the displacements to use.
    /// </summary>
    private int[] CheckLayout(ReadOnlySpan<int> counts, ReadOnlySpan<int> displacements, int bufferLength,
        string countsName, string displsName, string bufferName)
    {
        try
        {
            return CheckLayoutCore(counts, displacements, bufferLength, countsName, displsName, bufferName);
        }
        catch (ArgumentException e)
        {
            throw FailCollective(e);
        }
    }

    private int[] CheckLayoutCore(ReadOnlySpan<int> counts, ReadOnlySpan<int> displacements, int bufferLength,
        string countsName, string displsName, string bufferName)
    {
        if (counts.Length != Size)
            throw new ArgumentException(
                $"{countsName} has {counts.Length} entries but communicator '{Name}' has {Size} ranks: give exactly one count per rank.", countsName);
        if (!displacements.IsEmpty && displacements.Length != Size)
            throw new ArgumentException(
                $"{displsName} has {displacements.Length} entries but communicator '{Name}' has {Size} ranks: give one displacement per rank, or none for packed data.", displsName);
        int[] displs = new int[Size];
        long next = 0;
        for (int i = 0; i < Size; i++)
        {
            if (counts[i] < 0)
                throw new ArgumentOutOfRangeException(countsName, counts[i], $"{countsName}[{i}] is {counts[i]}: counts must be >= 0.");
            long start = displacements.IsEmpty ? next : displacements[i];
            if (start < 0)
                throw new ArgumentOutOfRangeException(displsName, start, $"{displsName}[{i}] is {start}: displacements must be >= 0.");
            long end = start + counts[i];
            if (end > bufferLength)
                throw new ArgumentException(
                    $"{bufferName} holds {bufferLength} elements but rank {i}'s block needs elements {start}..{end - 1}: make the buffer at least {end} long.", bufferName);
            displs[i] = checked((int)start);
            next = end;
        }
        return displs;
    }

    /// <summary>A collective's buffer-length check (see <see cref="FailCollective"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckLength(int actual, long required, string paramName, string what)
    {
        if (actual < required) ThrowLength(actual, required, paramName, what);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLength(int actual, long required, string paramName, string what)
        => throw FailCollective(new ArgumentException($"{paramName} holds {actual} elements but {what} needs {required}.", paramName));
}
