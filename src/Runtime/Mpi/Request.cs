using System.Buffers;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// A pending nonblocking operation (<c>MPI_Request</c>) from Isend, Irecv, Ibcast, Iallreduce, Ibarrier.
/// Keeps its buffers pinned until it completes — the GC must not move memory MPI is still reading or
/// writing. Complete it with <see cref="Wait"/>, <see cref="Test"/>, <see cref="WaitAsync"/> or the static
/// <see cref="Waitall"/>/<see cref="Waitany"/>/<see cref="Testall"/>. Not thread-safe: one thread at a time.
/// </summary>
public sealed class Request : IDisposable
{
    private nint _handle;
    private MemoryHandle _pin0, _pin1;
    private readonly string _call;
    private readonly ReceiveInfo? _receive;
    private Op? _op;
    private readonly Comm? _opComm;
    private Status _status;
    private bool _completed;
    // 1 while WaitAsync's poller owns the request; then only the poller may test it.
    private int _awaited;

    internal Request(nint handle, string call, MemoryHandle pin0 = default, MemoryHandle pin1 = default,
        ReceiveInfo? receive = null, Op? op = null, Comm? opComm = null)
    {
        _handle = handle;
        _call = call;
        _pin0 = pin0;
        _pin1 = pin1;
        _receive = receive;
        _op = op;
        _opComm = opComm;
        op?.BeginUse(); // the op stays alive (its function callable) until this request completes
    }

    /// <summary>True once the operation has completed (its buffers are then free to use).</summary>
    public bool IsCompleted => _completed;

    /// <summary>Waits for completion (<c>MPI_Wait</c>) and returns the status (meaningful for receives).</summary>
    /// <exception cref="MpiException">The operation failed, e.g. a receive into a too-small buffer.</exception>
    public unsafe Status Wait()
    {
        if (_completed) return _status;
        EnsureOwnedByCaller();
        nint handle = _handle;
        StatusBuffer status = default;
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Wait(&handle, &status);
        region.Exit();
        return Complete(rc, status.ToStatus());
    }

    /// <summary>Checks for completion without waiting (<c>MPI_Test</c>).</summary>
    public unsafe bool Test(out Status status)
    {
        if (_completed)
        {
            status = _status;
            return true;
        }
        EnsureOwnedByCaller();
        if (TestCore(out status)) return true;
        status = default;
        return false;
    }

    /// <summary>Asks MPI to cancel the operation (<c>MPI_Cancel</c>); still complete it with Wait, then check <see cref="Status.Cancelled"/>.</summary>
    public unsafe void Cancel()
    {
        if (_completed) return;
        EnsureOwnedByCaller();
        nint handle = _handle;
        MpiError.Check(MpiNative.Cancel(&handle), "MPI_Cancel");
    }

    /// <summary>
    /// Completes on a shared background poller thread (MPI_Test with backoff) — no thread is parked per request.
    /// Needs <see cref="ThreadLevel.Multiple"/>. Cancelling the token stops waiting; the MPI operation itself
    /// keeps going (call <see cref="Cancel"/> and <see cref="Wait"/> to abandon it).
    /// </summary>
    public Task<Status> WaitAsync(CancellationToken cancellationToken = default)
    {
        if (_completed) return Task.FromResult(_status);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Status>(cancellationToken);
        try
        {
            if (Test(out var status)) return Task.FromResult(status);
        }
        catch (Exception e)
        {
            return Task.FromException<Status>(e);
        }
        if (MpiEnvironment.ProvidedThreadLevel != ThreadLevel.Multiple)
            throw new InvalidOperationException(
                $"WaitAsync polls from a background thread, which needs MPI_THREAD_MULTIPLE but MPI provided {MpiEnvironment.ProvidedThreadLevel}. " +
                "Use Wait()/Test(), or initialize with MpiEnvironment.Init(ThreadLevel.Multiple) on an MPI built with thread support.");
        if (Interlocked.CompareExchange(ref _awaited, 1, 0) != 0)
            throw new InvalidOperationException("This request is already being awaited; await the first WaitAsync task.");
        return RequestPoller.Register(this, cancellationToken);
    }

    /// <summary>Waits for all requests (<c>MPI_Waitall</c>); returns their statuses in order.</summary>
    /// <exception cref="MpiException">One of the operations failed (the first failure is thrown after all are accounted for).</exception>
    public static unsafe Status[] Waitall(params Request[] requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        int n = requests.Length;
        var result = new Status[n];
        if (n == 0) return result;
        var abi = MpiLibrary.Abi;
        Span<byte> handles = n <= 32 ? stackalloc byte[HandleArray.ByteLength(n)] : new byte[HandleArray.ByteLength(n)];
        Pack(requests, handles);
        var codes = new int[n];
        var completed = new bool[n];
        // MPI_Waitall may return early on an error, leaving requests pending (MPICH marks them
        // MPI_ERR_PENDING); we finish those too, so Waitall always means "all completed".
        Exception? first = null;
        try
        {
            if (abi.Kind == MpiAbi.OpenMpi || !WaitallNative(handles, result, codes, completed))
                WaitallBySome(handles, result, codes, completed);
        }
        catch (Exception e)
        {
            // Failed midway: the requests MPI completed before the failure have had their handles freed; mark
            // them completed below (unpinned, op released) before throwing, so none keeps a dead handle.
            first = e;
        }

        for (int i = 0; i < n; i++)
        {
            var r = requests[i];
            if (r._completed)
            {
                result[i] = r._status;
                continue;
            }
            if (!completed[i]) continue;
            try
            {
                result[i] = r.Complete(codes[i], result[i]);
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }
        if (first is not null) throw first;
        return result;
    }

    // Test seams: make MPI_Waitsome fail as a whole (returning the code, completing nothing) instead of running when the
    // given number of requests is still pending, or MPI_Waitall fail with a code after it returned, as an MPI can midway.
    // Null outside tests.
    internal static Func<int, int>? WaitsomeFault;
    internal delegate int HandlesFault(Span<byte> handles);
    internal static HandlesFault? WaitallNativeFault;

    /// <summary>
    /// MPI_Waitall with the ABI's handle and status arrays; per-request codes come from the statuses on
    /// MPI_ERR_IN_STATUS. Returns false when some requests are still pending after an error.
    /// </summary>
    private static unsafe bool WaitallNative(Span<byte> handles, Status[] statuses, int[] codes, bool[] completed)
    {
        int n = statuses.Length;
        var abi = MpiLibrary.Abi;
        Span<byte> raw = n <= 32 ? stackalloc byte[n * abi.StatusSize] : new byte[n * abi.StatusSize];
        int rc;
        fixed (byte* h = handles)
        fixed (byte* s = raw)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Waitall(n, h, s);
            region.Exit();
        }
        rc = WaitallNativeFault?.Invoke(handles) ?? rc;
        bool perRequestErrors = rc != 0 && MpiError.ClassOf(rc) == MpiErrorClass.InStatus;
        bool all = true;
        for (int i = 0; i < n; i++)
        {
            // After an error some requests may still be pending; those keep a live handle.
            completed[i] = HandleArray.Read(handles, i) == abi.RequestNull;
            all &= completed[i];
            if (!completed[i]) continue;
            statuses[i] = StatusBuffer.Read(raw, i);
            codes[i] = perRequestErrors ? statuses[i].Error : 0;
        }
        // Thrown only now: completed[] tells the caller which requests MPI freed before the failure.
        if (rc != 0 && !perRequestErrors) MpiError.Throw(rc, "MPI_Waitall");
        return all;
    }

    /// <summary>Requests one MPI_Waitsome looks at: its cost per call grows with them, its stack room too.</summary>
    private const int WaitsomeWindow = 128;

    /// <summary>
    /// Waitall as MPI_Waitsome over windows of at most <see cref="WaitsomeWindow"/> pending requests, each window
    /// compacted after every call until it is done. Open MPI 4.1's MPI_Waitall can spin forever when one of the requests
    /// fails (e.g. a truncated receive: reproduced here with a 20-line C program), while MPI_Waitsome reports the failure
    /// in that request's status and carries on. Every MPI_Waitsome call scans the array it is given, so a loop over the
    /// whole array would cost O(n) per completion (O(n²) in all, as a loop of MPI_Waitany does); over bounded windows a
    /// call costs O(window) and each one completes at least one request: O(n · window) at worst, O(n) in all. Waiting on
    /// a window does not hold up the others: MPI progresses every pending request of the process while it waits.
    /// The result is MPI_Waitall's: every request completed, each with its own code and status.
    /// </summary>
    private static unsafe void WaitallBySome(Span<byte> handles, Status[] statuses, int[] codes, bool[] completed)
    {
        var abi = MpiLibrary.Abi;
        int n = statuses.Length, handleSize = abi.HandleSize;
        // The caller's positions of the requests still pending, packed to the front of handles (the handles alike).
        int[] position = new int[n];
        int pending = 0;
        for (int i = 0; i < n; i++)
        {
            nint handle = HandleArray.Read(handles, i);
            if (handle == abi.RequestNull) continue; // completed before (by us, or by MPI_Waitall)
            HandleArray.Write(handles, pending, handle);
            position[pending++] = i;
        }
        int remaining = pending;
        int* indices = stackalloc int[WaitsomeWindow];
        Span<byte> raw = stackalloc byte[WaitsomeWindow * abi.StatusSize];
        fixed (byte* h = handles)
        fixed (byte* s = raw)
        {
            for (int start = 0; start < pending; start += WaitsomeWindow)
            {
                int left = Math.Min(WaitsomeWindow, pending - start);
                byte* window = h + (nint)start * handleSize;
                while (left > 0)
                {
                    int done = 0, rc;
                    if (WaitsomeFault?.Invoke(remaining) is int fault and not 0)
                        rc = fault;
                    else
                    {
                        var region = BlockingRegion.Enter();
                        rc = MpiNative.Waitsome(left, window, &done, indices, s);
                        region.Exit();
                    }
                    bool perRequestErrors = rc != 0 && MpiError.ClassOf(rc) == MpiErrorClass.InStatus;
                    if (rc != 0 && !perRequestErrors)
                    {
                        // Failed as a whole: indices and statuses say nothing, but what MPI freed before failing shows
                        // as a null handle; the caller marks those completed, the others keep their live handles.
                        for (int k = 0; k < left; k++)
                            if (HandleArray.Read(handles, start + k) == abi.RequestNull) completed[position[start + k]] = true;
                        MpiError.Throw(rc, "MPI_Waitsome");
                    }
                    if (done == abi.Undefined || done <= 0) break; // nothing active left in this window
                    for (int k = 0; k < done; k++)
                    {
                        int at = position[start + indices[k]];
                        statuses[at] = StatusBuffer.Read(raw, k);
                        codes[at] = perRequestErrors ? statuses[at].Error : 0;
                        completed[at] = true;
                    }
                    remaining -= done;
                    // Compact the window: its pending requests move to its front, in order.
                    int kept = 0;
                    for (int k = 0; k < left; k++)
                    {
                        int at = position[start + k];
                        if (completed[at]) continue;
                        if (kept != k)
                        {
                            HandleArray.Write(handles, start + kept, HandleArray.Read(handles, start + k));
                            position[start + kept] = at;
                        }
                        kept++;
                    }
                    left = kept;
                }
            }
        }
    }

    /// <summary>Waits until any one request completes (<c>MPI_Waitany</c>); returns its index, or -1 if all were already complete.</summary>
    public static unsafe (int Index, Status Status) Waitany(params Request[] requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        int n = requests.Length;
        if (n == 0) return (-1, default);
        Span<byte> handles = n <= 32 ? stackalloc byte[HandleArray.ByteLength(n)] : new byte[HandleArray.ByteLength(n)];
        Pack(requests, handles);
        StatusBuffer status = default;
        int index = 0, rc;
        fixed (byte* h = handles)
        {
            var region = BlockingRegion.Enter();
            rc = MpiNative.Waitany(n, h, &index, &status);
            region.Exit();
        }
        if (index == MpiLibrary.Abi.Undefined || index < 0 || index >= n)
        {
            MpiError.Check(rc, "MPI_Waitany");
            return (-1, default);
        }
        return (index, requests[index].Complete(rc, status.ToStatus()));
    }

    /// <summary>True, with every status, when all requests have completed (<c>MPI_Testall</c>); false (and nothing completed) otherwise.</summary>
    public static unsafe bool Testall(Request[] requests, out Status[] statuses)
    {
        ArgumentNullException.ThrowIfNull(requests);
        int n = requests.Length;
        statuses = new Status[n];
        if (n == 0) return true;
        var abi = MpiLibrary.Abi;
        Span<byte> handles = n <= 32 ? stackalloc byte[HandleArray.ByteLength(n)] : new byte[HandleArray.ByteLength(n)];
        Span<byte> raw = n <= 32 ? stackalloc byte[n * abi.StatusSize] : new byte[n * abi.StatusSize];
        Pack(requests, handles);
        int flag = 0, rc;
        fixed (byte* h = handles)
        fixed (byte* s = raw)
            rc = MpiNative.Testall(n, h, &flag, s);
        bool perRequestErrors = rc != 0 && MpiError.ClassOf(rc) == MpiErrorClass.InStatus;
        if (rc != 0 && !perRequestErrors) MpiError.Throw(rc, "MPI_Testall");
        if (flag == 0) return false;
        Exception? first = null;
        for (int i = 0; i < n; i++)
        {
            var r = requests[i];
            if (r._completed)
            {
                statuses[i] = r._status;
                continue;
            }
            var status = StatusBuffer.Read(raw, i);
            try
            {
                statuses[i] = r.Complete(perRequestErrors ? status.Error : 0, status);
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }
        if (first is not null) throw first;
        return true;
    }

    /// <summary>
    /// Frees a request that has not completed (<c>MPI_Request_free</c>): MPI finishes the operation on its
    /// own. Its buffers then stay pinned for the rest of the process, because MPI may still use them.
    /// Prefer completing requests; Dispose is for abandoning one.
    /// </summary>
    public unsafe void Dispose()
    {
        if (_completed || Volatile.Read(ref _awaited) != 0) return;
        _completed = true;
        if (!MpiEnvironment.IsInitialized || MpiEnvironment.IsFinalized) return;
        nint handle = _handle;
        _handle = MpiLibrary.Abi.RequestNull;
        MpiNative.Request_free(&handle);
        // Deliberately do not unpin _pin0/_pin1, nor release _op: the operation may still be running.
        _op = null;
        _pin0 = default;
        _pin1 = default;
    }

    /// <summary>One MPI_Test from the poller thread; true when complete (the status or failure is then set).</summary>
    internal bool PollFromPoller(out Status status) => TestCore(out status);

    /// <summary>Gives the request back to the caller after the awaiting task was cancelled.</summary>
    internal void ReleaseFromPoller() => Volatile.Write(ref _awaited, 0);

    private unsafe bool TestCore(out Status status)
    {
        nint handle = _handle;
        StatusBuffer buffer = default;
        int flag = 0;
        int rc = MpiNative.Test(&handle, &flag, &buffer);
        if (rc == 0 && flag == 0)
        {
            status = default;
            return false;
        }
        status = Complete(rc, buffer.ToStatus());
        return true;
    }

    /// <summary>Marks the request complete, unpins its buffers, and throws if it failed.</summary>
    private Status Complete(int rc, Status status)
    {
        _handle = MpiLibrary.Abi.RequestNull;
        _completed = true;
        _status = status;
        _pin0.Dispose();
        _pin1.Dispose();
        _pin0 = default;
        _pin1 = default;
        var op = _op;
        _op = null;
        op?.EndUse();
        if (rc != 0)
        {
            if (_receive is { } r) Comm.ThrowReceiveError(rc, _call, status, r.Capacity, r.ElementSize, r.ElementType, r.Source, r.Tag);
            MpiError.Throw(rc, _call);
        }
        op?.ThrowIfFunctionFailed(_opComm!);
        return status;
    }

    private void EnsureOwnedByCaller()
    {
        if (Volatile.Read(ref _awaited) != 0)
            throw new InvalidOperationException("This request is being awaited with WaitAsync; await that task instead of calling Wait/Test/Cancel.");
        if (MpiEnvironment.IsFinalized)
            throw new InvalidOperationException("MPI has been finalized; this request can no longer be completed.");
    }

    private static void Pack(Request[] requests, Span<byte> handles)
    {
        nint requestNull = MpiLibrary.Abi.RequestNull;
        for (int i = 0; i < requests.Length; i++)
        {
            var r = requests[i] ?? throw new ArgumentNullException(nameof(requests), $"requests[{i}] is null.");
            if (!r._completed) r.EnsureOwnedByCaller();
            HandleArray.Write(handles, i, r._completed ? requestNull : r._handle);
        }
    }
}
