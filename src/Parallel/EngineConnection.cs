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
/// <c>[REPLY, stdout, stderr, payload...]</c>). One receive loop turns replies into <see cref="TaskOutcome"/>s for the
/// client; when the connection is lost (or the controller reports the engine dead) every task still pending ends with
/// <see cref="EngineException"/>.
/// </summary>
internal sealed class EngineConnection : IAsyncDisposable
{
    private readonly FrameConnection _connection;
    private readonly ILogger _logger;
    private readonly Action<EngineConnection, ClientTask, TaskOutcome> _finished;
    private readonly ConcurrentDictionary<ulong, ClientTask> _pending = new();
    private Task? _loop;
    private string? _deadBecause;

    private EngineConnection(int id, string url, string uuid, FrameConnection connection, ILogger logger,
        Action<EngineConnection, ClientTask, TaskOutcome> finished)
    {
        Id = id;
        Url = url;
        Uuid = uuid;
        _connection = connection;
        _logger = logger;
        _finished = finished;
    }

    public int Id { get; }
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

    public static async Task<EngineConnection> ConnectAsync(int id, string url, string uuid, byte[] key, string session,
        TimeSpan timeout, ILogger logger, Action<EngineConnection, ClientTask, TaskOutcome> finished, CancellationToken cancellationToken)
    {
        var connection = await KeyHandshake.ConnectAsync(url, key, new { role = "client", session }, timeout, cancellationToken)
            .ConfigureAwait(false);
        var engine = new EngineConnection(id, url, uuid, connection, logger, finished);
        engine._loop = Task.Run(engine.ReceiveLoopAsync);
        return engine;
    }

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
        _ = SendFramesAsync(frames);
    }

    /// <summary>Asks the engine to drop these tasks if they have not started (they come back aborted).</summary>
    public void Abort(IReadOnlyList<ulong> seqs)
    {
        if (!Alive || seqs.Count == 0) return;
        var parts = new List<FramePart> { TaskHeaders.Request(TaskKind.Abort, 0, 0, TaskHeaders.UnixNow()) };
        parts.AddRange(PickleWriter.Dumps(seqs.Select(s => (long)s).ToList()));
        _ = SendFramesAsync([parts]);
    }

    private async Task SendFramesAsync(IReadOnlyList<IReadOnlyList<FramePart>> frames)
    {
        try
        {
            await _connection.SendAsync(frames).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            MarkDead($"sending to it failed: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="seq"/> is still waiting for its reply here.</summary>
    public bool IsPending(ulong seq) => _pending.ContainsKey(seq);

    private async Task ReceiveLoopAsync()
    {
        string reason = "its connection closed (the engine stopped or crashed)";
        try
        {
            while (true)
            {
                byte[][]? frame = await _connection.ReadFrameAsync().ConfigureAwait(false);
                if (frame is null) break;
                OnReply(frame, DateTime.UtcNow);
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                                      or InvalidDataException or OperationCanceledException)
        {
            reason = $"its connection broke: {e.Message}";
        }
        MarkDead(reason);
    }

    private void OnReply(byte[][] frame, DateTime received)
    {
        var (status, flags, seq, started, completed) = TaskHeaders.Reply(frame[0]);
        if (!_pending.TryRemove(seq, out var task)) return;
        string stdout = frame.Length > 1 ? Encoding.UTF8.GetString(frame[1]) : "";
        string stderr = frame.Length > 2 ? Encoding.UTF8.GetString(frame[2]) : "";
        object? value = null;
        Exception? error = null;
        string method = task.Kind.ToString().ToLowerInvariant();
        try
        {
            if (status == ReplyStatus.Ok)
            {
                if (task.Kind == TaskKind.Execute)
                {
                    if ((flags & TaskHeaders.HasResultFlag) != 0 && PickleReader.Loads(frame[3]) is Dictionary<object, object?> d)
                        value = new ExecuteReply(Id, Convert.ToInt32(d["execution_count"]), (string)d["text/plain"]!);
                }
                else if (frame.Length > 3) value = PickleReader.Loads(frame[3], frame[4..]);
            }
            else if (status == ReplyStatus.Aborted)
                error = new TaskAbortedException($"task {task.MsgId} was aborted on engine {Id} before it ran");
            else error = ToException(PickleReader.Loads(frame[3]), method);
        }
        catch (Exception e) when (e is UnsupportedPickleException or InvalidDataException or InvalidCastException or KeyNotFoundException)
        {
            // a result this client cannot read is that task's error, not the connection's
            error = new RemoteException(Id, method, e.GetType().Name, $"could not read the result here: {e.Message}", null);
        }
        var metadata = new TaskMetadata(task.MsgId, Id, Uuid, UnixTime(task.Submitted)!.Value, UnixTime(started), UnixTime(completed),
            received, status.ToString().ToLowerInvariant(), stdout, stderr);
        double run = completed > started && started > 0 ? completed - started : 0;
        _finished(this, task, new TaskOutcome(value, error, metadata, status == ReplyStatus.Error, run));
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
        _connection.Close();
        FailPending(reason, null);
        Lost?.Invoke(this);
    }

    private void FailPending(string reason, IReadOnlyList<ClientTask>? only)
    {
        foreach (var seq in only?.Select(t => t.Seq) ?? _pending.Keys)
            if (_pending.TryRemove(seq, out var task))
                _finished(this, task, new TaskOutcome(null,
                    new EngineException(Id, $"died while it had task {task.MsgId}: {reason}"), null, Retryable: true, 0));
    }

    public async ValueTask DisposeAsync()
    {
        MarkDead("the client closed");
        if (_loop is not null) await _loop.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
