using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// The authenticated connection to the controller (PROTOCOL.md, "Controller requests"): JSON requests
/// <c>{"op", "id", ...}</c> answered by <c>{"ok", "id", ...}</c> plus blobs, and events without an id
/// (<c>engine_registered</c>, <c>engine_died</c>, <c>engines_reset</c>). One receive loop completes the requests and
/// hands events to <see cref="Event"/>.
/// </summary>
internal sealed class ControllerConnection : IAsyncDisposable
{
    private readonly FrameConnection _connection;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<(JsonObject, byte[][])>> _requests = new();
    private long _nextId;
    private Task? _loop;
    private volatile string? _closedBecause;

    private ControllerConnection(FrameConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
    }

    /// <summary>An event pushed by the controller (runs on the receive loop: keep it short).</summary>
    public event Action<JsonObject>? Event;

    /// <summary>The connection closed (the controller stopped); the argument says why.</summary>
    public event Action<string>? Closed;

    public bool IsClosed => _closedBecause is not null;

    public static async Task<ControllerConnection> ConnectAsync(string url, byte[] key, string session, TimeSpan timeout,
        ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await KeyHandshake.ConnectAsync(url, key, session, timeout, cancellationToken)
                .ConfigureAwait(false);
            return new ControllerConnection(connection, logger);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException
                                  && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"the cluster does not answer at {url} ({e.Message}); it may have stopped: start one " +
                                  "with Cluster.StartAsync(engines: n) or './pympi cluster start -n N'", e);
        }
    }

    /// <summary>Starts the receive loop (after the caller subscribed to the events).</summary>
    public void Start() => _loop = Task.Run(ReceiveLoopAsync);

    private async Task ReceiveLoopAsync()
    {
        string reason = "the controller closed the connection (the cluster stopped)";
        try
        {
            while (true)
            {
                byte[][]? frame = await _connection.ReadFrameAsync().ConfigureAwait(false);
                if (frame is null) break;
                var message = JsonNode.Parse(frame[0])?.AsObject() ?? throw new InvalidDataException("empty controller message");
                if (message.ContainsKey("event"))
                {
                    try { Event?.Invoke(message); }
                    catch (Exception e) { _logger.LogError(e, "handling controller event {Event} failed", message["event"]); }
                    continue;
                }
                long id = message["id"]?.GetValue<long>() ?? -1;
                if (_requests.TryRemove(id, out var pending)) pending.TrySetResult((message, frame[1..]));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException
                                      or InvalidDataException or JsonException or OperationCanceledException)
        {
            reason = $"the connection to the controller broke: {e.Message}";
        }
        _closedBecause = reason;
        foreach (var id in _requests.Keys)
            if (_requests.TryRemove(id, out var pending))
                pending.TrySetException(new IOException($"the controller is gone before answering: {reason}"));
        try { Closed?.Invoke(reason); }
        catch (Exception e) { _logger.LogError(e, "handling the controller's disconnection failed"); }
    }

    /// <summary>Sends a request and awaits its reply; a refusal (<c>ok: false</c>) becomes an exception.</summary>
    public async Task<(JsonObject Reply, byte[][] Blobs)> AskAsync(string op, JsonObject? fields = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        if (_closedBecause is { } why) throw new IOException($"the controller is gone: {why}");
        long id = Interlocked.Increment(ref _nextId);
        var message = fields?.DeepClone().AsObject() ?? new JsonObject();
        message["op"] = op;
        message["id"] = id;
        var tcs = new TaskCompletionSource<(JsonObject, byte[][])>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[id] = tcs;
        try
        {
            await _connection.SendAsync([System.Text.Encoding.UTF8.GetBytes(message.ToJsonString())], cancellationToken).ConfigureAwait(false);
            var limit = timeout ?? TimeSpan.FromSeconds(30);
            var (reply, blobs) = await tcs.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            if (reply["ok"]?.GetValue<bool>() != true)
                throw new InvalidOperationException($"controller: {reply["error"]?.GetValue<string>() ?? "refused"} (request {op})");
            return (reply, blobs);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the controller did not answer {op} within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds:0.#} s");
        }
        finally
        {
            _requests.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _connection.Close();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
