using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// A message claimed by <see cref="Comm.Mprobe"/> (<c>MPI_Message</c>, mpi4py's <c>Message</c>): its size and origin
/// are known and no other receive can match it; receive it exactly once with <see cref="Recv{T}(Span{T})"/>.
/// </summary>
public sealed class Message
{
    private nint _handle;
    private readonly Comm _comm;

    internal Message(nint handle, Status status, Comm comm)
    {
        _handle = handle;
        Status = status;
        _comm = comm;
    }

    /// <summary>Source, tag and size of the claimed message.</summary>
    public Status Status { get; }

    /// <summary>True once the message was received.</summary>
    public bool IsReceived { get; private set; }

    /// <summary>
    /// Receives the message into <paramref name="buffer"/> (<c>MPI_Mrecv</c>). The buffer must hold the whole message:
    /// a shorter one is refused before MPI is called, so the message is not lost and can be received again.
    /// </summary>
    /// <exception cref="InvalidOperationException">The message was already received.</exception>
    /// <exception cref="ArgumentException">The buffer is too small for the message.</exception>
    public unsafe Status Recv<T>(Span<T> buffer) where T : unmanaged
    {
        if (IsReceived)
            throw new InvalidOperationException($"this message (from rank {Status.Source}, tag {Status.Tag}) was already received; Mprobe again for the next one.");
        int count = Status.GetCount<T>();
        if (buffer.Length < count)
            throw new ArgumentException(
                $"the message from rank {Status.Source} (tag {Status.Tag}) holds {count} {typeof(T).Name} elements ({Status.ByteCount} bytes) " +
                $"but the buffer has room for {buffer.Length}; pass a buffer of at least {count} elements (or call Recv<{typeof(T).Name}>()).",
                nameof(buffer));
        _comm.Live(); // throws if the communicator was freed meanwhile
        nint type = Datatype<T>.Handle;
        StatusBuffer status = default;
        nint message = _handle;
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Mrecv(p, count, type, &message, &status);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Mrecv");
        _handle = message;
        IsReceived = true;
        return status.ToStatus();
    }

    /// <summary>Receives the message into a new array of exactly its size.</summary>
    public T[] Recv<T>() where T : unmanaged
    {
        var data = new T[Status.GetCount<T>()];
        Recv<T>(data);
        return data;
    }

    public override string ToString() => $"Message(from {Status.Source}, tag {Status.Tag}, {Status.ByteCount} bytes{(IsReceived ? ", received" : "")})";
}
