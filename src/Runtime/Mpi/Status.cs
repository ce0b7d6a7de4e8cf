using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>What MPI reported about a received or probed message (<c>MPI_Status</c>), copied out of the ABI's layout.</summary>
public readonly struct Status
{
    internal Status(int source, int tag, int error, bool cancelled, long byteCount)
    {
        Source = source;
        Tag = tag;
        Error = error;
        Cancelled = cancelled;
        ByteCount = byteCount;
    }

    /// <summary>Rank that sent the message; <see cref="Comm.ProcNull"/> for a receive from ProcNull.</summary>
    public int Source { get; }
    /// <summary>Tag of the message.</summary>
    public int Tag { get; }
    /// <summary>MPI error code for this message (set by multi-request completions; 0 means success).</summary>
    public int Error { get; }
    /// <summary>True when the request was cancelled successfully.</summary>
    public bool Cancelled { get; }
    /// <summary>Size of the message in bytes.</summary>
    public long ByteCount { get; }

    /// <summary>
    /// Number of <typeparamref name="T"/> elements in the message (<c>MPI_Get_count</c>). Use after
    /// <see cref="Comm.Probe"/> to size a receive buffer.
    /// </summary>
    /// <exception cref="InvalidOperationException">The byte count is not a whole number of elements (it was sent as another type).</exception>
    public unsafe int GetCount<T>() where T : unmanaged
    {
        long count = Math.DivRem(ByteCount, sizeof(T), out long rest);
        if (rest != 0)
            throw new InvalidOperationException(
                $"The message holds {ByteCount} bytes, which is not a whole number of {typeof(T).Name} elements ({sizeof(T)} bytes each); " +
                "it was probably sent as another element type.");
        return checked((int)count);
    }

    /// <summary>Maps the ABI's special source ranks back to ours (<see cref="Comm.AnySource"/>, <see cref="Comm.ProcNull"/>).</summary>
    internal static int SourceFromAbi(int source)
    {
        if (source >= 0) return source;
        var abi = MpiLibrary.Abi;
        if (source == abi.ProcNull) return Comm.ProcNull;
        if (source == abi.AnySource) return Comm.AnySource;
        return source;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Status(Source={Source}, Tag={Tag}, Bytes={ByteCount}{(Cancelled ? ", Cancelled" : "")}{(Error != 0 ? $", Error={Error}" : "")})";
}
