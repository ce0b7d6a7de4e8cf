using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>One task in flight on one engine: where its reply goes.</summary>
internal sealed record PendingTask(ulong Seq, string MsgId, TaskKind Kind, double Submitted, AsyncResult Result, int Index);

/// <summary>
/// The authenticated TCP connection to one engine (the hot path: requests <c>[REQUEST, payload...]</c>, replies
/// <c>[REPLY, stdout, stderr, payload...]</c>). One receive loop completes the tasks; when the connection is lost
/// (or the controller reports the engine dead), every task still pending fails with <see cref="EngineException"/>.
/// </summary>
internal sealed class EngineConnection : IAsyncDisposable
{
    private readonly FrameConnection _connection;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, PendingTask> _pending = new();
    private Task? _loop;
    private string? _deadBecause;

    private EngineConnection(int id, string url, string uuid, FrameConnection connection, ILogger logger)
    {
        Id = id;
        Url = url;
        Uuid = uuid;
        _connection = connection;
        _logger = logger;
    }

    public int Id { get; }
    public string Url { get; }
    public string Uuid { get; }
    public bool Alive => Volatile.Read(ref _deadBecause) is null;
    public string? DeadBecause => Volatile.Read(ref _deadBecause);
    public int Outstanding => _pending.Count;

    /// <summary>Raised once when the engine is lost (the client updates its registry).</summary>
    public event Action<EngineConnection>? Lost;

    public static async Task<EngineConnection> ConnectAsync(int id, string url, string uuid, byte[] key, string session,
        TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var connection = await KeyHandshake.ConnectAsync(url, key, new { role = "client", session }, timeout, cancellationToken)
            .ConfigureAwait(false);
        var engine = new EngineConnection(id, url, uuid, connection, logger);
        engine._loop = Task.Run(engine.ReceiveLoopAsync);
        return engine;
    }

    /// <summary>Sends one task; its reply completes <paramref name="task"/>'s result.</summary>
    public async Task SendAsync(PendingTask task, byte flags, IReadOnlyList<FramePart> payload)
    {
        if (Volatile.Read(ref _deadBecause) is { } why)
        {
            task.Result.Complete(task.Index, null, new EngineException(Id, $"is dead: {why}"), null);
            return;
        }
        _pending[task.Seq] = task;
        var parts = new List<FramePart>(payload.Count + 1) { TaskHeaders.Request(task.Kind, flags, task.Seq, task.Submitted) };
        parts.AddRange(payload);
        try
        {
            await _connection.SendAsync(parts).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            MarkDead($"sending to it failed: {e.Message}");
        }
    }

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
            else error = ToException(PickleReader.Loads(frame[3]), method);
        }
        catch (Exception e) when (e is UnsupportedPickleException or InvalidDataException or InvalidCastException or KeyNotFoundException)
        {
            // a result this client cannot read is that task's error, not the connection's
            error = new RemoteException(Id, method, e.GetType().Name, $"could not read the result here: {e.Message}", null);
        }
        var metadata = new TaskMetadata(task.MsgId, Id, Uuid, Time(task.Submitted)!.Value, Time(started), Time(completed),
            received, status.ToString().ToLowerInvariant(), stdout, stderr);
        task.Result.Complete(task.Index, value, error, metadata);
    }

    private Exception ToException(object? content, string method)
    {
        if (content is not Dictionary<object, object?> d)
            return new RemoteException(Id, method, "UnknownError", $"the engine sent {ValueConversion.PythonName(content)}", null);
        string Field(string name) => d.TryGetValue(name, out var v) && v is not null ? v.ToString()! : "";
        return new RemoteException(Id, method, Field("ename"), Field("evalue"), Field("traceback"));
    }

    private static DateTime? Time(double unix) =>
        unix > 0 ? DateTime.UnixEpoch.AddTicks((long)(unix * TimeSpan.TicksPerSecond)) : null;

    /// <summary>The engine is gone: its pending tasks fail with <see cref="EngineException"/>.</summary>
    public void MarkDead(string reason)
    {
        if (Interlocked.CompareExchange(ref _deadBecause, reason, null) is not null) return;
        _logger.LogWarning("engine {Engine} is dead: {Reason}", Id, reason);
        _connection.Close();
        foreach (var seq in _pending.Keys)
            if (_pending.TryRemove(seq, out var task))
                task.Result.Complete(task.Index, null, new EngineException(Id, $"died while running task {task.MsgId}: {reason}"), null);
        Lost?.Invoke(this);
    }

    public async ValueTask DisposeAsync()
    {
        MarkDead("the client closed");
        if (_loop is not null) await _loop.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
