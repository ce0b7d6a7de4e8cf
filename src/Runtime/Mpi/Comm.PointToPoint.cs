using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

// Point-to-point messages (MPI.jl pointtopoint.jl, mpi4py Comm.Send/Recv). The blocking calls are the
// benchmark's hot path: checks are a couple of compares, the datatype is a cached static, the buffer is
// `fixed`, then exactly one function-pointer call and a zero test. No allocation, no lock.
public sealed partial class Comm
{
    /// <summary>Sends <paramref name="buffer"/> to rank <paramref name="dest"/> with <paramref name="tag"/> (<c>MPI_Send</c>); returns when the buffer may be reused.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dest is not a rank of this communicator (nor <see cref="ProcNull"/>), or tag is negative.</exception>
    public unsafe void Send<T>(ReadOnlySpan<T> buffer, int dest, int tag) where T : unmanaged
    {
        nint comm = Live();
        int d = DestRank(dest);
        CheckSendTag(tag);
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Send(p, buffer.Length, type, d, tag, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Send");
    }

    /// <summary>Synchronous send (<c>MPI_Ssend</c>): returns only once the matching receive has started.</summary>
    public unsafe void Ssend<T>(ReadOnlySpan<T> buffer, int dest, int tag) where T : unmanaged
    {
        nint comm = Live();
        int d = DestRank(dest);
        CheckSendTag(tag);
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Ssend(p, buffer.Length, type, d, tag, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Ssend");
    }

    /// <summary>
    /// Receives a message from <paramref name="source"/> (or <see cref="AnySource"/>) with <paramref name="tag"/>
    /// (or <see cref="AnyTag"/>) into <paramref name="buffer"/> (<c>MPI_Recv</c>). The message may be shorter than
    /// the buffer; <see cref="Status.GetCount{T}"/> says how many elements arrived.
    /// </summary>
    /// <exception cref="MpiException">The message is longer than the buffer (<see cref="MpiErrorClass.Truncate"/>; the message gives both sizes).</exception>
    public unsafe Status Recv<T>(Span<T> buffer, int source, int tag) where T : unmanaged
    {
        nint comm = Live();
        int s = SourceRank(source);
        CheckRecvTag(tag);
        nint type = Datatype<T>.Handle;
        StatusBuffer status = default;
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Recv(p, buffer.Length, type, s, tag, comm, &status);
            region.Exit();
        }
        if (rc != 0) ThrowReceiveError(rc, "MPI_Recv", status.ToStatus(), buffer.Length, sizeof(T), typeof(T), source, tag);
        return status.ToStatus();
    }

    /// <summary>
    /// Sends <paramref name="send"/> to <paramref name="dest"/> and receives into <paramref name="receive"/> from
    /// <paramref name="source"/> in one call that cannot deadlock against a matching Sendrecv (<c>MPI_Sendrecv</c>).
    /// The two buffers must not overlap.
    /// </summary>
    public unsafe Status Sendrecv<TSend, TReceive>(ReadOnlySpan<TSend> send, int dest, int sendTag,
        Span<TReceive> receive, int source, int receiveTag)
        where TSend : unmanaged where TReceive : unmanaged
    {
        nint comm = Live();
        int d = DestRank(dest);
        int s = SourceRank(source);
        CheckSendTag(sendTag, nameof(sendTag));
        CheckRecvTag(receiveTag, nameof(receiveTag));
        if (System.Runtime.InteropServices.MemoryMarshal.AsBytes(send).Overlaps(System.Runtime.InteropServices.MemoryMarshal.AsBytes((ReadOnlySpan<TReceive>)receive)))
            throw new ArgumentException("Sendrecv needs separate send and receive buffers; they overlap. Copy the data to send first.", nameof(receive));
        nint sendType = Datatype<TSend>.Handle, receiveType = Datatype<TReceive>.Handle;
        StatusBuffer status = default;
        int rc;
        fixed (TSend* ps = send)
        fixed (TReceive* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Sendrecv(ps, send.Length, sendType, d, sendTag, pr, receive.Length, receiveType, s, receiveTag, comm, &status);
            region.Exit();
        }
        if (rc != 0) ThrowReceiveError(rc, "MPI_Sendrecv", status.ToStatus(), receive.Length, sizeof(TReceive), typeof(TReceive), source, receiveTag);
        return status.ToStatus();
    }

    /// <summary>
    /// Starts sending <paramref name="buffer"/> (<c>MPI_Isend</c>). The buffer stays pinned until the returned
    /// request completes; do not modify it before then.
    /// </summary>
    public unsafe Request Isend<T>(ReadOnlyMemory<T> buffer, int dest, int tag) where T : unmanaged
    {
        nint comm = Live();
        int d = DestRank(dest);
        CheckSendTag(tag);
        nint type = Datatype<T>.Handle;
        var pin = buffer.Pin();
        nint request = 0;
        int rc = MpiNative.Isend(pin.Pointer, buffer.Length, type, d, tag, comm, &request);
        if (rc != 0)
        {
            pin.Dispose();
            MpiError.Throw(rc, "MPI_Isend");
        }
        return new Request(request, "MPI_Isend", pin);
    }

    /// <inheritdoc cref="Isend{T}(ReadOnlyMemory{T}, int, int)"/>
    public Request Isend<T>(T[] buffer, int dest, int tag) where T : unmanaged => Isend(new ReadOnlyMemory<T>(buffer), dest, tag);

    /// <summary>
    /// Starts receiving into <paramref name="buffer"/> (<c>MPI_Irecv</c>). The buffer stays pinned until the
    /// returned request completes; read it only after Wait/Test/WaitAsync report completion.
    /// </summary>
    public unsafe Request Irecv<T>(Memory<T> buffer, int source, int tag) where T : unmanaged
    {
        nint comm = Live();
        int s = SourceRank(source);
        CheckRecvTag(tag);
        nint type = Datatype<T>.Handle;
        var pin = buffer.Pin();
        nint request = 0;
        int rc = MpiNative.Irecv(pin.Pointer, buffer.Length, type, s, tag, comm, &request);
        if (rc != 0)
        {
            pin.Dispose();
            MpiError.Throw(rc, "MPI_Irecv");
        }
        return new Request(request, "MPI_Irecv", pin, receive: new ReceiveInfo(buffer.Length, sizeof(T), typeof(T), source, tag));
    }

    /// <inheritdoc cref="Irecv{T}(Memory{T}, int, int)"/>
    public Request Irecv<T>(T[] buffer, int source, int tag) where T : unmanaged => Irecv(new Memory<T>(buffer), source, tag);

    /// <summary>Waits for a matching message without receiving it (<c>MPI_Probe</c>); use <see cref="Status.GetCount{T}"/> to size the buffer.</summary>
    public unsafe Status Probe(int source = AnySource, int tag = AnyTag)
    {
        nint comm = Live();
        int s = SourceRank(source);
        CheckRecvTag(tag);
        StatusBuffer status = default;
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Probe(s, tag, comm, &status);
        region.Exit();
        if (rc != 0) MpiError.Throw(rc, "MPI_Probe");
        return status.ToStatus();
    }

    /// <summary>
    /// Waits for a matching message and claims it (<c>MPI_Mprobe</c>): unlike <see cref="Probe"/>, no other receive —
    /// on another thread, with a wildcard — can take the message before <see cref="Message.Recv{T}(Span{T})"/> does.
    /// The way to receive a message of unknown size when several threads receive (mpi4py's <c>recv</c> does this).
    /// </summary>
    public unsafe Message Mprobe(int source = AnySource, int tag = AnyTag)
    {
        nint comm = Live();
        int s = SourceRank(source);
        CheckRecvTag(tag);
        StatusBuffer status = default;
        nint message = 0; // MPICH writes a 4-byte handle: zero-extended in this 8-byte slot
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Mprobe(s, tag, comm, &message, &status);
        region.Exit();
        if (rc != 0) MpiError.Throw(rc, "MPI_Mprobe");
        return new Message(message, status.ToStatus(), this);
    }

    /// <summary>Checks, without waiting, for a matching message (<c>MPI_Iprobe</c>).</summary>
    public unsafe bool Iprobe(int source, int tag, out Status status)
    {
        nint comm = Live();
        int s = SourceRank(source);
        CheckRecvTag(tag);
        StatusBuffer buffer = default;
        int flag = 0;
        int rc = MpiNative.Iprobe(s, tag, comm, &flag, &buffer);
        if (rc != 0) MpiError.Throw(rc, "MPI_Iprobe");
        status = flag != 0 ? buffer.ToStatus() : default;
        return flag != 0;
    }

    /// <summary>Turns a receive error into an exception; a truncation gets a message with both sizes and the fix.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowReceiveError(int rc, string call, Status status, int capacity, int elementSize, Type elementType, int source, int tag)
    {
        if (MpiError.ClassOf(rc) != MpiErrorClass.Truncate) MpiError.Throw(rc, call);
        long capacityBytes = (long)capacity * elementSize;
        string from = source == AnySource ? $"rank {status.Source}" : $"rank {source}";
        string tagText = tag == AnyTag ? $"tag {status.Tag}" : $"tag {tag}";
        // Open MPI reports the incoming size in the status; MPICH's count after a truncation is not reliable.
        string incoming = MpiLibrary.Abi.Kind == MpiAbi.OpenMpi && status.ByteCount > capacityBytes
            ? $"has {status.ByteCount} bytes ({status.ByteCount / elementSize} {elementType.Name} elements)"
            : "is larger than that";
        MpiError.Throw(rc, call,
            $"message truncated: the receive buffer holds {capacity} {elementType.Name} elements ({capacityBytes} bytes) but the message from {from}, {tagText} {incoming}. " +
            "Size the buffer first with Probe(source, tag).GetCount<T>(), or agree on a maximum size.");
    }
}

/// <summary>What a pending receive needs to explain a truncation when it completes.</summary>
internal sealed record ReceiveInfo(int Capacity, int ElementSize, Type ElementType, int Source, int Tag);
