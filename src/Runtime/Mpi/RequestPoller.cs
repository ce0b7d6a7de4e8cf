using System.Collections.Concurrent;

namespace PyMpiBridge.Mpi;

/// <summary>
/// Completes <see cref="Request.WaitAsync"/> tasks: ONE background thread tests every pending request
/// (MPI_Test) in a loop, spinning briefly after progress, then yielding, then sleeping up to 1 ms between
/// passes, and blocking entirely when nothing is pending. Continuations run on the thread pool, never on
/// the poller thread, so user code cannot stall progress.
/// </summary>
internal static class RequestPoller
{
    private sealed class Entry(Request request, CancellationToken token)
    {
        public readonly Request Request = request;
        public readonly CancellationToken Token = token;
        public readonly TaskCompletionSource<Status> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration;
        public volatile bool CancelRequested;
    }

    private static readonly ConcurrentQueue<Entry> s_incoming = new();
    private static readonly AutoResetEvent s_wake = new(false);
    private static readonly Lock s_lock = new();
    private static Thread? s_thread;
    private static volatile bool s_stopping;

    public static Task<Status> Register(Request request, CancellationToken token)
    {
        var entry = new Entry(request, token);
        // Register before the poller can see the entry, so Finish always disposes a real registration.
        if (token.CanBeCanceled)
            entry.Registration = token.Register(static e =>
            {
                ((Entry)e!).CancelRequested = true;
                s_wake.Set();
            }, entry);
        lock (s_lock)
        {
            if (s_stopping)
            {
                entry.Registration.Dispose();
                request.ReleaseFromPoller();
                throw new InvalidOperationException("MPI is finalizing; no new request can be awaited.");
            }
            if (s_thread is null)
            {
                s_thread = new Thread(Loop) { IsBackground = true, Name = "MPI request poller" };
                s_thread.Start();
            }
            s_incoming.Enqueue(entry);
        }
        s_wake.Set();
        return entry.Completion.Task;
    }

    /// <summary>Stops the poller before MPI_Finalize; tasks still pending fail.</summary>
    public static void Shutdown()
    {
        Thread? thread;
        lock (s_lock)
        {
            s_stopping = true;
            thread = s_thread;
        }
        s_wake.Set();
        thread?.Join(TimeSpan.FromSeconds(10));
    }

    private static void Loop()
    {
        var pending = new List<Entry>();
        int idlePasses = 0;
        while (true)
        {
            while (s_incoming.TryDequeue(out var e)) pending.Add(e);
            if (s_stopping)
            {
                foreach (var e in pending)
                    Finish(e, () => e.Completion.TrySetException(new InvalidOperationException("MPI was finalized before this request completed.")));
                return;
            }

            bool progressed = false;
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                var e = pending[i];
                bool done;
                if (e.CancelRequested)
                {
                    e.Request.ReleaseFromPoller();
                    Finish(e, () => e.Completion.TrySetCanceled(e.Token));
                    done = true;
                }
                else
                {
                    try
                    {
                        done = e.Request.PollFromPoller(out var status);
                        if (done) Finish(e, () => e.Completion.TrySetResult(status));
                    }
                    catch (Exception ex)
                    {
                        Finish(e, () => e.Completion.TrySetException(ex));
                        done = true;
                    }
                }
                if (done)
                {
                    pending.RemoveAt(i);
                    progressed = true;
                }
            }

            if (pending.Count == 0)
            {
                idlePasses = 0;
                s_wake.WaitOne();
            }
            else if (progressed) idlePasses = 0;
            else if (++idlePasses < 64) Thread.SpinWait(32);
            else if (idlePasses < 128) Thread.Yield();
            else s_wake.WaitOne(1); // backoff; a new registration or cancellation wakes us at once
        }
    }

    private static void Finish(Entry e, Action complete)
    {
        e.Registration.Dispose();
        complete();
    }
}
