using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A connection to a running cluster, as ipyparallel's <c>Client</c>: it reads the cluster's connection file,
/// authenticates with the controller (registry, task database) and with every engine, and sends tasks straight to the
/// engines over TCP. Engines that register later are connected as the controller announces them.
/// </summary>
public sealed class Client : IAsyncDisposable
{
    private readonly ControllerConnection _controller;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, EngineConnection> _engines = new();
    private readonly ConcurrentDictionary<string, Task> _connecting = new();
    private readonly TimeSpan _timeout;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _seq;
    private int _disposed;

    // Conversions of types this client does not know (a DataFrame pushed to engines) come with their assemblies, when
    // deployed beside the program; loading them registers their EngineConverters.
    static Client() => Sharing.BridgeExtensions.LoadFrom(AppContext.BaseDirectory);

    private Client(ConnectionFile file, ControllerConnection controller, string session, TimeSpan timeout, ILogger logger)
    {
        ConnectionFile = file;
        _controller = controller;
        Session = session;
        _timeout = timeout;
        _logger = logger;
    }

    /// <summary>The connection file this client read.</summary>
    public ConnectionFile ConnectionFile { get; }

    /// <summary>This client's session id: task ids are <c>{Session}_{seq}</c>.</summary>
    public string Session { get; }

    /// <summary>
    /// Connects to the cluster of <paramref name="profile"/>/<paramref name="clusterId"/> (the files <c>./pympi cluster
    /// start</c>, Python's <c>ipp.Cluster</c> or <see cref="Cluster.StartAsync"/> write), or to the one described by
    /// <paramref name="urlFile"/>. <paramref name="timeout"/> bounds the wait for the file and each connection (10 s).
    /// </summary>
    public static async Task<Client> ConnectAsync(string? profile = null, string? clusterId = null, string? urlFile = null,
        TimeSpan? timeout = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        logger ??= NullLogger.Instance;
        string path = urlFile ?? ConnectionFile.ClientFilePath(profile, clusterId);
        var file = await ConnectionFile.ReadAsync(path, limit, cancellationToken).ConfigureAwait(false);
        string session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var controller = await ControllerConnection.ConnectAsync(file.Controller, file.Key, session, limit, logger, cancellationToken)
            .ConfigureAwait(false);
        var client = new Client(file, controller, session, limit, logger);
        controller.Event += client.OnControllerEvent;
        controller.Closed += client.OnControllerClosed;
        controller.Start();
        try
        {
            var (reply, _) = await controller.AskAsync("connect", timeout: limit, cancellationToken: cancellationToken).ConfigureAwait(false);
            var tasks = new List<Task>();
            foreach (var (id, e) in reply["engines"]!.AsObject())
                tasks.Add(client.AddEngineAsync(int.Parse(id), e!["url"]!.GetValue<string>(), e["uuid"]!.GetValue<string>()));
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        logger.LogInformation("connected to {Controller} ({Path}): engines {Engines}", file.Controller, path, string.Join(", ", client.Ids));
        return client;
    }

    // ---- engines -------------------------------------------------------------------------------------------------

    private Task AddEngineAsync(int id, string url, string uuid)
    {
        if (_engines.TryGetValue(id, out var existing) && existing.Alive && existing.Uuid == uuid) return Task.CompletedTask;
        return _connecting.GetOrAdd(uuid, _ => ConnectEngineAsync(id, url, uuid));
    }

    private async Task ConnectEngineAsync(int id, string url, string uuid)
    {
        try
        {
            var engine = await EngineConnection.ConnectAsync(id, url, uuid, ConnectionFile.Key, Session, _timeout, _logger,
                CancellationToken.None).ConfigureAwait(false);
            engine.Lost += _ => Signal();
            if (_engines.TryGetValue(id, out var old) && old != engine) old.MarkDead("replaced by a new engine with the same id");
            _engines[id] = engine;
            _logger.LogDebug("engine {Engine} connected at {Url}", id, url);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException
                                      or System.Security.Authentication.AuthenticationException or InvalidDataException)
        {
            // registered but unreachable: remembered as dead, so using it says why
            _logger.LogWarning("engine {Engine} is unreachable at {Url}: {Error}", id, url, e.Message);
            _unreachable[id] = $"unreachable at {url}: {e.Message}";
            if (e is System.Security.Authentication.AuthenticationException) throw;
        }
        finally
        {
            _connecting.TryRemove(uuid, out _);
            Signal();
        }
    }

    private readonly ConcurrentDictionary<int, string> _unreachable = new();

    private void Signal() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void OnControllerEvent(JsonObject message)
    {
        switch (message["event"]?.GetValue<string>())
        {
            case "engine_registered":
                int id = message["id"]!.GetValue<int>();
                _ = AddEngineAsync(id, message["url"]!.GetValue<string>(), message["uuid"]!.GetValue<string>());
                break;
            case "engine_died":
                if (_engines.TryGetValue(message["id"]!.GetValue<int>(), out var engine))
                    engine.MarkDead(message["reason"]?.GetValue<string>() ?? "the controller reported it dead");
                break;
        }
    }

    private void OnControllerClosed(string reason)
    {
        foreach (var engine in _engines.Values) engine.MarkDead($"the controller went away ({reason})");
        Signal();
    }

    /// <summary>The ids of the engines that are alive, sorted.</summary>
    public IReadOnlyList<int> Ids => _engines.Values.Where(e => e.Alive).Select(e => e.Id).Order().ToList();

    /// <summary>Waits until <paramref name="n"/> engines (default: as many as the cluster was started with) are connected.</summary>
    public async Task WaitForEnginesAsync(int? n = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        int want = n ?? ConnectionFile.Engines;
        var deadline = timeout is null ? (DateTime?)null : DateTime.UtcNow + timeout.Value;
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (Ids.Count >= want) return;
            if (_controller.IsClosed) throw new IOException($"the controller is gone: {Ids.Count} engines connected, waited for {want}");
            var left = deadline is null ? Timeout.InfiniteTimeSpan : deadline.Value - DateTime.UtcNow;
            if (deadline is not null && left <= TimeSpan.Zero)
                throw new TimeoutException($"{Ids.Count} engines registered, waited for {want} (the engines' log is in " +
                                           $"{Path.Combine(ConnectionFile.ProfileDirectory(ConnectionFile.Profile), "log")})");
            try { await changed.WaitAsync(left, cancellationToken).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
    }

    /// <summary>The engine ids of <paramref name="targets"/> (null: every engine), each checked.</summary>
    internal IReadOnlyList<int> ResolveTargets(IReadOnlyList<int>? targets)
    {
        var ids = Ids;
        if (targets is null)
            return ids.Count > 0 ? ids : throw new InvalidOperationException(
                "this operation requires engines: none is connected. Wait with client.WaitForEnginesAsync(n), or start " +
                "some with Cluster.StartAsync(engines: n) or './pympi cluster start -n N'");
        foreach (int t in targets) Engine(t);
        return targets;
    }

    internal EngineConnection Engine(int id)
    {
        if (_engines.TryGetValue(id, out var engine))
            return engine.Alive ? engine : throw new EngineException(id, $"is dead: {engine.DeadBecause}");
        if (_unreachable.TryGetValue(id, out var why)) throw new EngineException(id, why);
        throw new ArgumentOutOfRangeException(nameof(id), id, $"no engine with id {id} (engines: {string.Join(", ", Ids)})");
    }

    // ---- views ---------------------------------------------------------------------------------------------------

    /// <summary>A view on every engine (resolved at each call, as <c>rc[:]</c>).</summary>
    public DirectView DirectView() => new(this, null);

    /// <summary>A view on <paramref name="targets"/>; unknown engines are refused here.</summary>
    public DirectView DirectView(IEnumerable<int> targets)
    {
        var list = targets.ToList();
        ResolveTargets(list);
        return new DirectView(this, list);
    }

    /// <summary><c>client[0]</c>: a view on one engine.</summary>
    public DirectView this[int id] => DirectView([id]);

    /// <summary><c>client[..]</c> (every engine, as <c>rc[:]</c>), <c>client[1..]</c>, <c>client[^1..]</c>: by position in <see cref="Ids"/>.</summary>
    public DirectView this[Range range]
    {
        get
        {
            if (range.Equals(Range.All)) return DirectView();
            var ids = Ids;
            var (offset, length) = range.GetOffsetAndLength(ids.Count);
            if (length == 0) throw new ArgumentOutOfRangeException(nameof(range), $"the range {range} selects no engine (engines: {string.Join(", ", ids)})");
            return DirectView(ids.Skip(offset).Take(length));
        }
    }

    // ---- submitting ----------------------------------------------------------------------------------------------

    /// <summary>Sends one task per target (each with its own payload) and returns their result.</summary>
    internal TResult Submit<TResult>(TaskKind kind, byte flags, IReadOnlyList<int> targets,
        Func<int, IReadOnlyList<FramePart>> payloadFor, Func<IReadOnlyList<int>, IReadOnlyList<string>, TResult> makeResult)
        where TResult : AsyncResult
    {
        var engines = targets.Select(Engine).ToList();
        var seqs = targets.Select(_ => (ulong)Interlocked.Increment(ref _seq)).ToList();
        var result = makeResult(targets, seqs.Select(s => $"{Session}_{s}").ToList());
        double submitted = TaskHeaders.UnixNow();
        for (int i = 0; i < engines.Count; i++)
        {
            var task = new PendingTask(seqs[i], $"{Session}_{seqs[i]}", kind, submitted, result, i);
            _ = engines[i].SendAsync(task, flags, payloadFor(i));
        }
        return result;
    }

    // ---- controller requests -------------------------------------------------------------------------------------

    /// <summary>Per engine: tasks queued and completed, as the engines last reported to the controller.</summary>
    public async Task<IReadOnlyDictionary<int, EngineQueueStatus>> QueueStatusAsync(CancellationToken cancellationToken = default)
    {
        var (reply, _) = await _controller.AskAsync("queue_status", cancellationToken: cancellationToken).ConfigureAwait(false);
        var status = new SortedDictionary<int, EngineQueueStatus>();
        foreach (var (id, s) in reply["status"]!.AsObject())
        {
            int eid = int.Parse(id);
            int outstanding = _engines.TryGetValue(eid, out var e) ? e.Outstanding : 0;
            // the engine reports in batches; this client knows its own outstanding work exactly
            status[eid] = new EngineQueueStatus(Math.Max(s!["queue"]!.GetValue<int>(), outstanding), s["completed"]!.GetValue<int>());
        }
        return status;
    }

    /// <summary>
    /// Task records matching a Mongo-style <paramref name="query"/> (<c>{"engine_id": 0}</c>,
    /// <c>{"completed": {"$gt": DateTime}}</c>, <c>$in</c>, <c>$exists</c>…); each record a dictionary of
    /// <paramref name="keys"/> (default: every key but the result buffers).
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> DbQueryAsync(IDictionary<string, object?> query,
        IEnumerable<string>? keys = null, CancellationToken cancellationToken = default)
    {
        var fields = new JsonObject { ["query"] = JsonQuery(query) };
        if (keys is not null) fields["keys"] = new JsonArray(keys.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray());
        var (_, blobs) = await _controller.AskAsync("db_query", fields, cancellationToken: cancellationToken).ConfigureAwait(false);
        var records = PickleReader.Loads(blobs[0]);
        return ValueConversion.To<List<object?>>(records, "db_query's answer")
            .Select(r => (IReadOnlyDictionary<string, object?>)ValueConversion.To<Dictionary<string, object?>>(r, "a task record"))
            .ToList();
    }

    /// <summary>The msg_ids of every task the controller has recorded, in submission order.</summary>
    public async Task<IReadOnlyList<string>> HubHistoryAsync(CancellationToken cancellationToken = default)
    {
        var (reply, _) = await _controller.AskAsync("hub_history", cancellationToken: cancellationToken).ConfigureAwait(false);
        return reply["history"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
    }

    /// <summary>Stops the whole cluster (controller and engines), as <c>client.shutdown(hub=True)</c>.</summary>
    public Task ShutdownAsync(CancellationToken cancellationToken = default) =>
        _controller.AskAsync("shutdown", new JsonObject { ["hub"] = true }, cancellationToken: cancellationToken);

    private static JsonNode? JsonQuery(object? value) => value switch
    {
        null => null,
        DateTime dt => new JsonObject { ["$datetime"] = (dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : dt).Subtract(DateTime.UnixEpoch).TotalSeconds },
        DateTimeOffset dto => new JsonObject { ["$datetime"] = dto.ToUnixTimeMilliseconds() / 1000.0 },
        IDictionary<string, object?> d => new JsonObject(d.Select(kv => KeyValuePair.Create(kv.Key, JsonQuery(kv.Value)))),
        string s => JsonValue.Create(s),
        System.Collections.IEnumerable items => new JsonArray(items.Cast<object?>().Select(JsonQuery).ToArray()),
        _ => JsonSerializer.SerializeToNode(value),
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _controller.DisposeAsync().ConfigureAwait(false);
        foreach (var engine in _engines.Values) await engine.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>One engine's queue as <c>queue_status</c> reports it.</summary>
public sealed record EngineQueueStatus(int Queue, int Completed);
