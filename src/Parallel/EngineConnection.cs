using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Scheduling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>How a task sent to an engine ended, as its reply (or the engine's loss) says.</summary>
/// <param name="Retryable">A load-balanced task may run again elsewhere: it raised on the engine, or the engine died.</param>
/// <param name="RunSeconds">completed - started on the engine (0 when unknown).</param>
internal readonly record struct TaskOutcome(object? Value, Exception? Error, TaskMetadata? Metadata, bool Retryable, double RunSeconds);

/// <summary>
/// The authenticated connection to one engine (the hot path: requests <c>[REQUEST, payload...]</c>, replies
/// <c>[REPLY, stdout, stderr, payload...]</c>): a Unix socket when the engine runs on this host (large parts pass as
/// memory files), TCP otherwise. Tasks are sent from the caller's thread; the client's <see cref="ReplyPump"/> reads the
/// replies and this turns them into <see cref="TaskOutcome"/>s. When the connection is lost (or the controller reports
/// the engine dead) every task still pending ends with <see cref="EngineException"/>.
/// </summary>
internal sealed class EngineConnection : ReplyPump.IReadable, IDisposable
{
    private readonly FrameSocket _connection;
    private readonly ReplyPump _pump;
    private readonly ILogger _logger;
    private readonly Action<EngineConnection, IReadOnlyList<(ClientTask Task, TaskOutcome Outcome)>> _finished;
    private readonly ConcurrentDictionary<ulong, ClientTask> _pending = new();
    private string? _deadBecause;

    private EngineConnection(int id, string url, string uuid, FrameSocket connection, ReplyPump pump, ILogger logger,
        Action<EngineConnection, IReadOnlyList<(ClientTask Task, TaskOutcome Outcome)>> finished)
    {
        Id = id;
        Url = url;
        Uuid = uuid;
        _connection = connection;
        _pump = pump;
        _logger = logger;
        _finished = finished;
    }

    public int Id { get; }
    /// <summary>The address connected to (<c>ipc://@...</c> for a local engine, else <c>tcp://</c>).</summary>
    public string Url { get; }
    public string Uuid { get; }
    public bool Alive => Volatile.Read(ref _deadBecause) is null;
    public string? DeadBecause => Volatile.Read(ref _deadBecause);
    public int Outstanding => _pending.Count;

    // ---- the load balancer's view of this engine (read and written under the client's scheduling lock) ----
    /// <summary>Load-balanced tasks sent here and not finished.</summary>
    public int BalancedOutstanding { get; set; }
    /// <summary>Seconds a load-balanced task takes here, learnt from replies.</summary>
    public double AverageTaskSeconds { get; set; } = 0.001;
    /// <summary>How many load-balanced tasks to keep queued here: about a millisecond of work (tiny tasks stream, long ones stay balanceable).</summary>
    public int HighWaterMark => Math.Max(1, Math.Min(256, (int)(0.001 / Math.Max(AverageTaskSeconds, 1e-6))));

    /// <summary>Raised once when the engine is lost (the client updates its registry).</summary>
    public event Action<EngineConnection>? Lost;

    /// <summary>
    /// Connects to the engine: over its Unix socket <paramref name="ipc"/> when it runs on this host (and
    /// <c>PYMPI_PARALLEL_TRANSPORT</c> is not <c>tcp</c>), else, or when that fails (another network namespace, say),
    /// over TCP at <paramref name="url"/>.
    /// </summary>
    public static async Task<EngineConnection> ConnectAsync(int id, string url, string? ipc, string? host, string uuid, byte[] key,
        string session, TimeSpan timeout, ReplyPump pump, ILogger logger, Action<EngineConnection, IReadOnlyList<(ClientTask Task, TaskOutcome Outcome)>> finished,
        CancellationToken cancellationToken)
    {
        FrameSocket? connection = null;
        if (ipc is not null && host == System.Net.Dns.GetHostName() &&
            !string.Equals(Environment.GetEnvironmentVariable("PYMPI_PARALLEL_TRANSPORT"), "tcp", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                connection = await KeyHandshake.ConnectSocketAsync(ipc, key, session, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                logger.LogDebug("engine {Engine}: its local socket {Ipc} does not answer ({Error}); using {Url}", id, ipc, e.Message, url);
            }
        }
        connection ??= await KeyHandshake.ConnectSocketAsync(url, key, session, timeout, cancellationToken).ConfigureAwait(false);
        var engine = new EngineConnection(id, connection.Url, uuid, connection, pump, logger, finished);
        pump.Add(engine);
        return engine;
    }

    int ReplyPump.IReadable.Descriptor => _connection.Descriptor;

    bool ReplyPump.IReadable.Waiting => !_pending.IsEmpty;

    /// <summary>
    /// Sends <paramref name="tasks"/> in one write (a burst of tiny tasks costs one system call). Each task is pending
    /// before its bytes leave, so its reply always finds it.
    /// </summary>
    public void Send(IReadOnlyList<ClientTask> tasks)
    {
        var frames = new List<IReadOnlyList<FramePart>>(tasks.Count);
        double now = TaskHeaders.UnixNow();
        foreach (var task in tasks)
        {
            task.Submitted = now;
            task.Engine = Id;
            task.Result.Dispatched(task.Index, Id);
            _pending[task.Seq] = task;
            var parts = new List<FramePart>(task.Payload.Count + 1) { TaskHeaders.Request(task.Kind, task.Flags, task.Seq, now) };
            parts.AddRange(task.Payload);
            frames.Add(parts);
        }
        if (Volatile.Read(ref _deadBecause) is { } why)
        {
            FailPending(why, tasks);
            return;
        }
        Write(frames);
    }

    /// <summary>Asks the engine to drop these tasks if they have not started (they come back aborted).</summary>
    public void Abort(IReadOnlyList<ulong> seqs)
    {
        if (!Alive || seqs.Count == 0) return;
        var parts = new List<FramePart> { TaskHeaders.Request(TaskKind.Abort, 0, 0, TaskHeaders.UnixNow()) };
        parts.AddRange(PickleWriter.Dumps(seqs.Select(s => (long)s).ToList()));
        Write([parts]);
    }

    private void Write(IReadOnlyList<IReadOnlyList<FramePart>> frames)
    {
        // The pump must never block in a send: the engine may be blocked sending us replies it is waiting to read.
        // Tiny frames always fit the socket's buffer; anything larger goes from a pool thread.
        if (ReplyPump.OnPumpThread && frames.Any(f => f.Sum(p => (long)p.Length) >= 64 * 1024))
        {
            ThreadPool.UnsafeQueueUserWorkItem(state => state.engine.WriteNow(state.frames), (engine: this, frames), preferLocal: false);
            return;
        }
        WriteNow(frames);
    }

    private void WriteNow(IReadOnlyList<IReadOnlyList<FramePart>> frames)
    {
        try
        {
            _connection.Send(frames);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                                      or System.ComponentModel.Win32Exception)
        {
            MarkDead($"sending to it failed: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="seq"/> is still waiting for its reply here.</summary>
    public bool IsPending(ulong seq) => _pending.ContainsKey(seq);

    void ReplyPump.IReadable.OnReadable()
    {
        if (!Alive) return;
        DateTime received;
        try
        {
            if (!_connection.Fill())
            {
                MarkDead("its connection closed (the engine stopped or crashed)");
                return;
            }
            received = DateTime.UtcNow;
            // every reply of this read first, then one call: the balancer refills this engine in one write
            var finished = new List<(ClientTask, TaskOutcome)>();
            while (_connection.TryReadFrame() is { } frame)
            {
                if (frame.Any(p => p.IsDescriptor))
                {
                    // a large result: copying it into its .NET array is the slow part, and each engine's can run on a
                    // core of its own instead of one after the other on this thread
                    ThreadPool.UnsafeQueueUserWorkItem(state =>
                    {
                        if (state.engine.OnReply(state.frame, state.received) is { } large) state.engine._finished(state.engine, [large]);
                    }, (engine: this, frame, received), preferLocal: false);
                    continue;
                }
                if (OnReply(frame, received) is { } done) finished.Add(done);
            }
            if (finished.Count > 0) _finished(this, finished);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                                      or InvalidDataException or System.ComponentModel.Win32Exception)
        {
            MarkDead($"its connection broke: {e.Message}");
        }
    }

    private (ClientTask, TaskOutcome)? OnReply(ReceivedPart[] frame, DateTime received)
    {
        try
        {
            return OnReply(frame, received, TaskHeaders.Reply(frame[0].Bytes));
        }
        finally
        {
            foreach (var part in frame) part.Dispose(); // memory files not read (an unreadable result) are closed here
        }
    }

    /// <summary>The task a reply finishes and how, or null for a reply to no pending task (an aborted wait, say).</summary>
    private (ClientTask, TaskOutcome)? OnReply(ReceivedPart[] frame, DateTime received, (ReplyStatus, byte, ulong, double, double) header)
    {
        var (status, flags, seq, started, completed) = header;
        if (!_pending.TryRemove(seq, out var task)) return null;
        string stdout = frame.Length > 1 ? Encoding.UTF8.GetString(frame[1].Bytes) : "";
        string stderr = frame.Length > 2 ? Encoding.UTF8.GetString(frame[2].Bytes) : "";
        object? value = null;
        Exception? error = null;
        string method = task.Kind.ToString().ToLowerInvariant();
        try
        {
            if (status == ReplyStatus.Ok)
            {
                if (task.Kind == TaskKind.Execute)
                {
                    if ((flags & TaskHeaders.HasResultFlag) != 0 && PickleReader.Loads(frame[3].Bytes) is Dictionary<object, object?> d)
                        value = new ExecuteReply(Id, Convert.ToInt32(d["execution_count"]), (string)d["text/plain"]!);
                }
                else if (frame.Length > 3) value = PickleReader.Loads(frame[3].Bytes, frame[4..]);
            }
            else if (status == ReplyStatus.Aborted)
                error = new TaskAbortedException($"task {task.MsgId} was aborted on engine {Id} before it ran");
            else error = ToException(PickleReader.Loads(frame[3].Bytes), method);
        }
        catch (Exception e) when (e is UnsupportedPickleException or InvalidDataException or InvalidCastException or KeyNotFoundException)
        {
            // a result this client cannot read is that task's error, not the connection's
            error = new RemoteException(Id, method, e.GetType().Name, $"could not read the result here: {e.Message}", null);
        }
        var metadata = new TaskMetadata(task.MsgId, Id, Uuid, UnixTime(task.Submitted)!.Value, UnixTime(started), UnixTime(completed),
            received, status.ToString().ToLowerInvariant(), stdout, stderr);
        double run = completed > started && started > 0 ? completed - started : 0;
        return (task, new TaskOutcome(value, error, metadata, status == ReplyStatus.Error, run));
    }

    private RemoteException ToException(object? content, string method)
    {
        if (content is not Dictionary<object, object?> d)
            return new RemoteException(Id, method, "UnknownError", $"the engine sent {ValueConversion.PythonName(content)}", null);
        string Field(string name) => d.TryGetValue(name, out var v) && v is not null ? v.ToString()! : "";
        return new RemoteException(Id, method, Field("ename"), Field("evalue"), Field("traceback"));
    }

    internal static DateTime? UnixTime(double unix) =>
        unix > 0 ? DateTime.UnixEpoch.AddTicks((long)(unix * TimeSpan.TicksPerSecond)) : null;

    /// <summary>The engine is gone: its pending tasks end with <see cref="EngineException"/> (the balancer may retry them elsewhere).</summary>
    public void MarkDead(string reason)
    {
        if (Interlocked.CompareExchange(ref _deadBecause, reason, null) is not null) return;
        _logger.LogWarning("engine {Engine} is dead: {Reason}", Id, reason);
        _pump.Remove(this);
        _connection.Close();
        FailPending(reason, null);
        Lost?.Invoke(this);
    }

    private void FailPending(string reason, IReadOnlyList<ClientTask>? only)
    {
        var failed = new List<(ClientTask, TaskOutcome)>();
        foreach (var seq in only?.Select(t => t.Seq) ?? _pending.Keys)
            if (_pending.TryRemove(seq, out var task))
                failed.Add((task, new TaskOutcome(null,
                    new EngineException(Id, $"died while it had task {task.MsgId}: {reason}"), null, Retryable: true, 0)));
        if (failed.Count > 0) _finished(this, failed);
    }

    public void Dispose() => MarkDead("the client closed");
}
