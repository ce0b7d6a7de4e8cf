using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

// Nonblocking collectives: they return at once with a Request that pins the buffers until completion.
// Every rank must start the same collectives in the same order, as with the blocking ones.
public sealed partial class Comm
{
    /// <summary>Starts a barrier (<c>MPI_Ibarrier</c>): the request completes once every rank has started it.</summary>
    public unsafe Request Ibarrier()
    {
        nint comm = Live();
        nint request = 0;
        MpiError.Check(MpiNative.Ibarrier(comm, &request), "MPI_Ibarrier");
        return new Request(request, "MPI_Ibarrier");
    }

    /// <summary>Starts broadcasting <paramref name="buffer"/> from <paramref name="root"/> (<c>MPI_Ibcast</c>).</summary>
    public unsafe Request Ibcast<T>(Memory<T> buffer, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        nint type = Datatype<T>.Handle;
        var pin = buffer.Pin();
        nint request = 0;
        int rc = MpiNative.Ibcast(pin.Pointer, buffer.Length, type, root, comm, &request);
        if (rc != 0)
        {
            pin.Dispose();
            MpiError.Throw(rc, "MPI_Ibcast");
        }
        return new Request(request, "MPI_Ibcast", pin);
    }

    /// <inheritdoc cref="Ibcast{T}(Memory{T}, int)"/>
    public Request Ibcast<T>(T[] buffer, int root) where T : unmanaged => Ibcast(new Memory<T>(buffer), root);

    /// <summary>Starts an Allreduce (<c>MPI_Iallreduce</c>); read <paramref name="receive"/> after the request completes.</summary>
    public unsafe Request Iallreduce<T>(ReadOnlyMemory<T> send, Memory<T> receive, Op op) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        CheckLength(receive.Length, send.Length, nameof(receive), $"Iallreduce of {send.Length} elements");
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        var pinSend = send.Pin();
        var pinReceive = receive.Pin();
        nint request = 0;
        int rc = MpiNative.Iallreduce(pinSend.Pointer, pinReceive.Pointer, send.Length, type, o, comm, &request);
        if (rc != 0)
        {
            pinSend.Dispose();
            pinReceive.Dispose();
            MpiError.Throw(rc, "MPI_Iallreduce");
        }
        return new Request(request, "MPI_Iallreduce", pinSend, pinReceive, op: op, opComm: this);
    }

    /// <inheritdoc cref="Iallreduce{T}(ReadOnlyMemory{T}, Memory{T}, Op)"/>
    public Request Iallreduce<T>(T[] send, T[] receive, Op op) where T : unmanaged
        => Iallreduce(new ReadOnlyMemory<T>(send), new Memory<T>(receive), op);

    /// <summary>Starts an in-place Allreduce (MPI_IN_PLACE): <paramref name="buffer"/> holds the result once the request completes.</summary>
    public unsafe Request Iallreduce<T>(Memory<T> buffer, Op op) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        var pin = buffer.Pin();
        nint request = 0;
        int rc = MpiNative.Iallreduce((void*)MpiLibrary.Abi.InPlace, pin.Pointer, buffer.Length, type, o, comm, &request);
        if (rc != 0)
        {
            pin.Dispose();
            MpiError.Throw(rc, "MPI_Iallreduce");
        }
        return new Request(request, "MPI_Iallreduce", pin, op: op, opComm: this);
    }

    /// <inheritdoc cref="Iallreduce{T}(Memory{T}, Op)"/>
    public Request Iallreduce<T>(T[] buffer, Op op) where T : unmanaged => Iallreduce(new Memory<T>(buffer), op);
}
