using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

// Blocking collectives (MPI.jl collective.jl, mpi4py's upper-case buffer methods). Every rank of the
// communicator must call the same collective in the same order. Buffer lengths are checked locally
// before MPI is called (a failure there ends the job on a communicator of several ranks: Comm.Checks.cs);
// what only the other ranks know (their lengths) MPI checks.
public sealed partial class Comm
{
    /// <summary>Copies <paramref name="buffer"/> from <paramref name="root"/> to every rank (<c>MPI_Bcast</c>).</summary>
    public unsafe void Bcast<T>(Span<T> buffer, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Bcast(p, buffer.Length, type, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Bcast");
    }

    /// <summary>Broadcasts one value from <paramref name="root"/>; every rank returns root's value.</summary>
    public T Bcast<T>(T value, int root) where T : unmanaged
    {
        Bcast(new Span<T>(ref value), root);
        return value;
    }

    /// <summary>
    /// Root splits <paramref name="send"/> into Size blocks of <c>receive.Length</c> elements and rank i gets
    /// block i (<c>MPI_Scatter</c>). <paramref name="send"/> matters only at root.
    /// </summary>
    public unsafe void Scatter<T>(ReadOnlySpan<T> send, Span<T> receive, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        if (Rank == root) CheckLength(send.Length, (long)receive.Length * Size, nameof(send), $"Scatter of {receive.Length} elements to each of {Size} ranks");
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Scatter(ps, receive.Length, type, pr, receive.Length, type, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Scatter");
    }

    /// <summary>
    /// Root sends <c>counts[i]</c> elements starting at <c>displacements[i]</c> of <paramref name="send"/> to rank i
    /// (<c>MPI_Scatterv</c>). Empty displacements mean packed blocks. counts/displacements/send matter only at root.
    /// </summary>
    public unsafe void Scatterv<T>(ReadOnlySpan<T> send, ReadOnlySpan<int> counts, ReadOnlySpan<int> displacements, Span<T> receive, int root)
        where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        int[]? displs = null;
        if (Rank == root)
        {
            displs = CheckLayout(counts, displacements, send.Length, nameof(counts), nameof(displacements), nameof(send));
            CheckLength(receive.Length, counts[Rank], nameof(receive), $"root's own block (counts[{Rank}])");
        }
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (int* pc = counts)
        fixed (int* pd = displs)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Scatterv(ps, pc, pd, type, pr, receive.Length, type, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Scatterv");
    }

    /// <inheritdoc cref="Scatterv{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, Span{T}, int)"/>
    public void Scatterv<T>(ReadOnlySpan<T> send, ReadOnlySpan<int> counts, Span<T> receive, int root) where T : unmanaged
        => Scatterv(send, counts, default, receive, root);

    /// <summary>Root receives every rank's <paramref name="send"/> block, in rank order, into <paramref name="receive"/> (<c>MPI_Gather</c>).</summary>
    public unsafe void Gather<T>(ReadOnlySpan<T> send, Span<T> receive, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        if (Rank == root) CheckLength(receive.Length, (long)send.Length * Size, nameof(receive), $"Gather of {send.Length} elements from each of {Size} ranks");
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Gather(ps, send.Length, type, pr, send.Length, type, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Gather");
    }

    /// <summary>Gathers one value per rank to <paramref name="root"/>: root gets an array indexed by rank, other ranks an empty one.</summary>
    public T[] Gather<T>(T value, int root) where T : unmanaged
    {
        T[] result = Rank == root ? new T[Size] : [];
        Gather(new ReadOnlySpan<T>(in value), result, root);
        return result;
    }

    /// <summary>
    /// Root receives <c>counts[i]</c> elements from rank i at <c>displacements[i]</c> of <paramref name="receive"/>
    /// (<c>MPI_Gatherv</c>). Empty displacements mean packed blocks. counts/displacements/receive matter only at root.
    /// </summary>
    public unsafe void Gatherv<T>(ReadOnlySpan<T> send, Span<T> receive, ReadOnlySpan<int> counts, ReadOnlySpan<int> displacements, int root)
        where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        int[]? displs = null;
        if (Rank == root)
        {
            displs = CheckLayout(counts, displacements, receive.Length, nameof(counts), nameof(displacements), nameof(receive));
            if (counts[Rank] != send.Length)
                throw FailCollective(new ArgumentException($"counts[{Rank}] is {counts[Rank]} but root sends {send.Length} elements; they must match.", nameof(counts)));
        }
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        fixed (int* pc = counts)
        fixed (int* pd = displs)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Gatherv(ps, send.Length, type, pr, pc, pd, type, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Gatherv");
    }

    /// <inheritdoc cref="Gatherv{T}(ReadOnlySpan{T}, Span{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, int)"/>
    public void Gatherv<T>(ReadOnlySpan<T> send, Span<T> receive, ReadOnlySpan<int> counts, int root) where T : unmanaged
        => Gatherv(send, receive, counts, default, root);

    /// <summary>Every rank receives every rank's <paramref name="send"/> block, in rank order (<c>MPI_Allgather</c>).</summary>
    public unsafe void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
    {
        nint comm = Live();
        CheckLength(receive.Length, (long)send.Length * Size, nameof(receive), $"Allgather of {send.Length} elements from each of {Size} ranks");
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Allgather(ps, send.Length, type, pr, send.Length, type, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Allgather");
    }

    /// <summary>Gathers one value per rank to every rank, as an array indexed by rank.</summary>
    public T[] Allgather<T>(T value) where T : unmanaged
    {
        T[] result = new T[Size];
        Allgather(new ReadOnlySpan<T>(in value), result);
        return result;
    }

    /// <summary>Every rank receives <c>counts[i]</c> elements from rank i at <c>displacements[i]</c> (<c>MPI_Allgatherv</c>).</summary>
    public unsafe void Allgatherv<T>(ReadOnlySpan<T> send, Span<T> receive, ReadOnlySpan<int> counts, ReadOnlySpan<int> displacements = default)
        where T : unmanaged
    {
        nint comm = Live();
        int[] displs = CheckLayout(counts, displacements, receive.Length, nameof(counts), nameof(displacements), nameof(receive));
        if (counts[Rank] != send.Length)
            throw FailCollective(new ArgumentException($"counts[{Rank}] is {counts[Rank]} but this rank sends {send.Length} elements; they must match.", nameof(counts)));
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        fixed (int* pc = counts)
        fixed (int* pd = displs)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Allgatherv(ps, send.Length, type, pr, pc, pd, type, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Allgatherv");
    }

    /// <summary>
    /// Block i of <paramref name="send"/> goes to rank i; block j of <paramref name="receive"/> comes from rank j
    /// (<c>MPI_Alltoall</c>). send.Length must be a multiple of Size.
    /// </summary>
    public unsafe void Alltoall<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
    {
        nint comm = Live();
        if (send.Length % Size != 0)
            throw FailCollective(new ArgumentException($"send holds {send.Length} elements, not a multiple of the {Size} ranks: Alltoall sends one equal block to each rank.", nameof(send)));
        int block = send.Length / Size;
        CheckLength(receive.Length, send.Length, nameof(receive), $"Alltoall of {block} elements from each of {Size} ranks");
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Alltoall(ps, block, type, pr, block, type, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Alltoall");
    }

    /// <summary>
    /// Rank i gets <c>sendCounts[i]</c> elements from <c>sendDisplacements[i]</c>; this rank receives
    /// <c>receiveCounts[j]</c> elements from rank j at <c>receiveDisplacements[j]</c> (<c>MPI_Alltoallv</c>).
    /// Empty displacements mean packed blocks.
    /// </summary>
    public unsafe void Alltoallv<T>(ReadOnlySpan<T> send, ReadOnlySpan<int> sendCounts, ReadOnlySpan<int> sendDisplacements,
        Span<T> receive, ReadOnlySpan<int> receiveCounts, ReadOnlySpan<int> receiveDisplacements) where T : unmanaged
    {
        nint comm = Live();
        int[] sd = CheckLayout(sendCounts, sendDisplacements, send.Length, nameof(sendCounts), nameof(sendDisplacements), nameof(send));
        int[] rd = CheckLayout(receiveCounts, receiveDisplacements, receive.Length, nameof(receiveCounts), nameof(receiveDisplacements), nameof(receive));
        nint type = Datatype<T>.Handle;
        int rc;
        fixed (T* ps = send)
        fixed (int* psc = sendCounts)
        fixed (int* psd = sd)
        fixed (T* pr = receive)
        fixed (int* prc = receiveCounts)
        fixed (int* prd = rd)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Alltoallv(ps, psc, psd, type, pr, prc, prd, type, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Alltoallv");
    }

    /// <summary>Combines every rank's <paramref name="send"/> element-wise with <paramref name="op"/> into root's <paramref name="receive"/> (<c>MPI_Reduce</c>).</summary>
    public unsafe void Reduce<T>(ReadOnlySpan<T> send, Span<T> receive, Op op, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        ArgumentNullException.ThrowIfNull(op);
        if (Rank == root) CheckLength(receive.Length, send.Length, nameof(receive), $"Reduce of {send.Length} elements");
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Reduce(ps, pr, send.Length, type, o, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Reduce");
        op.ThrowIfFunctionFailed(this);
    }

    /// <summary>In-place Reduce: root's <paramref name="buffer"/> is both its contribution and the result (MPI_IN_PLACE); other ranks' buffers are only read.</summary>
    public unsafe void Reduce<T>(Span<T> buffer, Op op, int root) where T : unmanaged
    {
        nint comm = Live();
        CheckRoot(root);
        ArgumentNullException.ThrowIfNull(op);
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* p = buffer)
        {
            void* send = Rank == root ? (void*)MpiLibrary.Abi.InPlace : p;
            void* receive = Rank == root ? p : null;
            var region = BlockingRegion.Enter();
            rc = MpiNative.Reduce(send, receive, buffer.Length, type, o, root, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Reduce");
        op.ThrowIfFunctionFailed(this);
    }

    /// <summary>Combines every rank's <paramref name="send"/> element-wise with <paramref name="op"/>; every rank gets the result in <paramref name="receive"/> (<c>MPI_Allreduce</c>).</summary>
    public unsafe void Allreduce<T>(ReadOnlySpan<T> send, Span<T> receive, Op op) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        if (receive.Length < send.Length) CheckLength(receive.Length, send.Length, nameof(receive), $"Allreduce of {send.Length} elements");
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Allreduce(ps, pr, send.Length, type, o, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Allreduce");
        op.ThrowIfFunctionFailed(this);
    }

    /// <summary>In-place Allreduce (MPI_IN_PLACE): <paramref name="buffer"/> holds this rank's contribution and then the result.</summary>
    public unsafe void Allreduce<T>(Span<T> buffer, Op op) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* p = buffer)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Allreduce((void*)MpiLibrary.Abi.InPlace, p, buffer.Length, type, o, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Allreduce");
        op.ThrowIfFunctionFailed(this);
    }

    /// <summary>Allreduce of one value: every rank returns the combination of all ranks' values.</summary>
    public T Allreduce<T>(T value, Op op) where T : unmanaged
    {
        T result = default;
        Allreduce(new ReadOnlySpan<T>(in value), new Span<T>(ref result), op);
        return result;
    }

    /// <summary>
    /// Reduces Size blocks of <c>receive.Length</c> elements element-wise and gives block i to rank i
    /// (<c>MPI_Reduce_scatter_block</c>). send.Length must be receive.Length × Size.
    /// </summary>
    public unsafe void ReduceScatterBlock<T>(ReadOnlySpan<T> send, Span<T> receive, Op op) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        if (send.Length != (long)receive.Length * Size)
            throw FailCollective(new ArgumentException(
                $"send holds {send.Length} elements but ReduceScatterBlock needs receive.Length × Size = {receive.Length} × {Size} = {(long)receive.Length * Size}.", nameof(send)));
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Reduce_scatter_block(ps, pr, receive.Length, type, o, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, "MPI_Reduce_scatter_block");
        op.ThrowIfFunctionFailed(this);
    }

    /// <summary>Inclusive prefix reduction: rank i gets the combination of ranks 0..i (<c>MPI_Scan</c>).</summary>
    public unsafe void Scan<T>(ReadOnlySpan<T> send, Span<T> receive, Op op) where T : unmanaged
        => PrefixReduce(send, receive, op, exclusive: false);

    /// <summary>Scan of one value.</summary>
    public T Scan<T>(T value, Op op) where T : unmanaged
    {
        T result = default;
        Scan(new ReadOnlySpan<T>(in value), new Span<T>(ref result), op);
        return result;
    }

    /// <summary>
    /// Exclusive prefix reduction: rank i gets the combination of ranks 0..i-1 (<c>MPI_Exscan</c>).
    /// Rank 0's <paramref name="receive"/> is left unchanged (MPI leaves it undefined).
    /// </summary>
    public unsafe void Exscan<T>(ReadOnlySpan<T> send, Span<T> receive, Op op) where T : unmanaged
        => PrefixReduce(send, receive, op, exclusive: true);

    private unsafe void PrefixReduce<T>(ReadOnlySpan<T> send, Span<T> receive, Op op, bool exclusive) where T : unmanaged
    {
        nint comm = Live();
        ArgumentNullException.ThrowIfNull(op);
        string call = exclusive ? "MPI_Exscan" : "MPI_Scan";
        CheckLength(receive.Length, send.Length, nameof(receive), $"{call} of {send.Length} elements");
        nint type = Datatype<T>.Handle, o = op.HandleFor<T>();
        int rc;
        fixed (T* ps = send)
        fixed (T* pr = receive)
        {
            var region = BlockingRegion.Enter();
            rc = exclusive
                ? MpiNative.Exscan(ps, pr, send.Length, type, o, comm)
                : MpiNative.Scan(ps, pr, send.Length, type, o, comm);
            region.Exit();
        }
        if (rc != 0) MpiError.Throw(rc, call);
        op.ThrowIfFunctionFailed(this);
    }
}
