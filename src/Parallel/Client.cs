using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Scheduling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A connection to a running cluster, as ipyparallel's <c>Client</c>: it reads the cluster's connection file,
/// authenticates with the controller (registry, task database) and with every engine, and sends tasks straight to the
/// engines: over Unix sockets to engines on this host (arrays of 1 MiB or more pass as memory files), TCP to others; one
/// thread (<see cref="ReplyPump"/>) reads every engine's replies. Engines that register later are connected as the controller announces them. Load-balanced tasks
/// wait in this client until an engine has room (<see cref="LoadBalancedView"/>).
/// </summary>
public sealed class Client : IAsyncDisposable
{
    private readonly ControllerConnection _controller;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, EngineConnection> _engines = new();
    private readonly ConcurrentDictionary<string, Task> _connecting = new();
    private readonly TimeSpan _timeout;
    private readonly TaskRouter _router;
    private readonly ReplyPump _pump;
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
        _router = new TaskRouter(session, () => _engines.Values.ToList());
        _pump = new ReplyPump(logger);
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
            if (reply["engines_ended"] is JsonObject ended) client._enginesEnded = EnginesEnded(ended);
            var tasks = new List<Task>();
            foreach (var (id, e) in reply["engines"]!.AsObject())
                tasks.Add(client.AddEngineAsync(int.Parse(id), e!.AsObject()));
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

    /// <summary>Connects to an engine the controller described (<c>{url, ipc, uuid, host}</c>), once per engine uuid.</summary>
    private Task AddEngineAsync(int id, JsonObject description)
    {
        string url = description["url"]!.GetValue<string>(), uuid = description["uuid"]!.GetValue<string>();
        string? ipc = description["ipc"]?.GetValue<string>(), host = description["host"]?.GetValue<string>();
        if (_engines.TryGetValue(id, out var existing) && existing.Alive && existing.Uuid == uuid) return Task.CompletedTask;
        return _connecting.GetOrAdd(uuid, _ => ConnectEngineAsync(id, url, ipc, host, uuid));
    }

    private async Task ConnectEngineAsync(int id, string url, string? ipc, string? host, string uuid)
    {
        try
        {
            var engine = await EngineConnection.ConnectAsync(id, url, ipc, host, uuid, ConnectionFile.Key, Session, _timeout, _pump,
                _logger, _router.Finished, CancellationToken.None).ConfigureAwait(false);
            engine.Lost += _ =>
            {
                Signal();
                _router.EngineLost();
            };
            if (_engines.TryGetValue(id, out var old) && old != engine) old.MarkDead("replaced by a new engine with the same id");
            _engines[id] = engine;
            _unreachable.TryRemove(id, out _);
            _logger.LogDebug("engine {Engine} connected at {Url}", id, url);
            _router.EngineAdded();
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
                _ = AddEngineAsync(message["id"]!.GetValue<int>(), message);
                break;
            case "engine_died":
                if (_engines.TryGetValue(message["id"]!.GetValue<int>(), out var engine))
                    engine.MarkDead(message["reason"]?.GetValue<string>() ?? "the controller reported it dead");
                break;
            case "engines_ended":
                _enginesEnded = EnginesEnded(message);
                Signal();
                break;
            case "engines_reset":
                _enginesEnded = null;
                break;
        }
    }

    /// <summary>Set when the engines' MPI job ended on its own: no engine will register any more (until a restart).</summary>
    private volatile string? _enginesEnded;

    private static string EnginesEnded(JsonObject ended) =>
        $"exit code {ended["code"]?.ToJsonString() ?? "unknown"}; the engines' log is {ended["log"]?.GetValue<string>() ?? "unknown"}";

    private void OnControllerClosed(string reason)
    {
        foreach (var engine in _engines.Values) engine.MarkDead($"the controller went away ({reason})");
        _router.ClusterGone(reason);
        Signal();
    }

    /// <summary>Whether the connection to the controller is gone (the cluster stopped).</summary>
    internal bool ControllerClosed => _controller.IsClosed;

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
            if (_enginesEnded is { } ended)
                throw new IOException($"the engines' MPI job ended ({ended}) with {Ids.Count} of the {want} engines waited for " +
                                      "connected: no more will come. Read the log, then restart the engines or start a new cluster");
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
        if (targets is null && ids.Count == 0) _router.ThrowIfUnusable(); // a stopped cluster says so
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
            return engine.Alive ? engine : throw new EngineException(id, $"is dead: {engine.DeadBecause}" + (_controller.IsClosed
                ? "; the cluster is gone: connect to a running one (Client.ConnectAsync) or start one (Cluster.StartAsync)"
                : $"; use the others (engines: {string.Join(", ", Ids)}), or wait for a new one with WaitForEnginesAsync"));
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

    /// <summary>
    /// A view whose tasks go to whichever engine has room (<paramref name="targets"/>: only these engines), as
    /// ipyparallel's <c>load_balanced_view</c>.
    /// </summary>
    public LoadBalancedView LoadBalancedView(IEnumerable<int>? targets = null)
    {
        var list = targets?.ToList();
        if (list is not null) ResolveTargets(list);
        return new LoadBalancedView(this, list);
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

    private (ulong[] Seqs, string[] MsgIds) NewTaskIds(int n)
    {
        var seqs = new ulong[n];
        var ids = new string[n];
        for (int i = 0; i < n; i++)
        {
            seqs[i] = (ulong)Interlocked.Increment(ref _seq);
            ids[i] = $"{Session}_{seqs[i]}";
        }
        return (seqs, ids);
    }

    /// <summary>Sends one task per target (each with its own payload) and returns their result.</summary>
    internal TResult SubmitDirect<TResult>(TaskKind kind, byte flags, IReadOnlyList<int> targets,
        Func<int, IReadOnlyList<FramePart>> payloadFor, Func<IReadOnlyList<string>, TResult> makeResult)
        where TResult : AsyncResult
    {
        var engines = targets.Select(Engine).ToList();
        var (seqs, ids) = NewTaskIds(targets.Count);
        var result = makeResult(ids);
        var tasks = new ClientTask[targets.Count];
        for (int i = 0; i < tasks.Length; i++) tasks[i] = new ClientTask(seqs[i], ids[i], kind, flags, payloadFor(i), result, i);
        _router.SubmitDirect(tasks, engines);
        return result;
    }

    /// <summary>
    /// Sends the same <paramref name="payload"/> to every target. Parts of 1 MiB or more are copied once into a memory
    /// file that every engine on this host receives (as the Python client does): pushing to N local engines costs one copy.
    /// </summary>
    internal TResult SubmitDirect<TResult>(TaskKind kind, byte flags, IReadOnlyList<int> targets, IReadOnlyList<FramePart> payload,
        Func<IReadOnlyList<string>, TResult> makeResult) where TResult : AsyncResult
    {
        var shared = new List<SharedMemoryFile>();
        if (targets.Count > 1)
            payload = payload.Select(p =>
            {
                if (p.Length < FrameSocket.DescriptorThreshold) return p;
                var file = new SharedMemoryFile(p);
                shared.Add(file);
                return new FramePart(file);
            }).ToList();
        try
        {
            return SubmitDirect(kind, flags, targets, _ => payload, makeResult);
        }
        finally
        {
            foreach (var file in shared) file.Dispose(); // sent: each engine holds its own descriptor
        }
    }

    /// <summary>Queues apply tasks (one per payload) in the load balancer and returns their result.</summary>
    internal TResult SubmitBalanced<TResult>(IReadOnlyList<IReadOnlyList<FramePart>> payloads, BalancingOptions options,
        Func<IReadOnlyList<string>, TResult> makeResult) where TResult : AsyncResult
    {
        _router.ThrowIfUnusable();
        if (options.Allowed is null && Ids.Count == 0 && _connecting.IsEmpty)
            ResolveTargets(null); // no engine at all: say so now instead of queueing forever
        var (seqs, ids) = NewTaskIds(payloads.Count);
        var result = makeResult(ids);
        long? deadline = options.Timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : null;
        var tasks = new ClientTask[payloads.Count];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = new ClientTask(seqs[i], ids[i], TaskKind.Apply, 0, payloads[i], result, i)
            {
                Balanced = true, RetriesLeft = options.Retries, Allowed = options.Allowed, After = options.After,
                Follow = options.Follow, Deadline = deadline,
            };
        _router.SubmitBalanced(tasks);
        return result;
    }

    // ---- waiting and aborting ------------------------------------------------------------------------------------

    /// <summary>msg_ids of this client's tasks that have not finished (queued here, or running).</summary>
    public IReadOnlyCollection<string> Outstanding => _router.Outstanding;

    /// <summary>
    /// Waits until the tasks of <paramref name="results"/> (default: every outstanding task) have finished, successfully
    /// or not; false when <paramref name="timeout"/> passed first (ipyparallel's <c>client.wait</c>). Cancelling
    /// <paramref name="cancellationToken"/> aborts those of them that have not started.
    /// </summary>
    public async Task<bool> WaitAsync(IEnumerable<AsyncResult>? results = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var waiting = (results ?? _router.OutstandingResults).Select(r => r.WaitAsync(cancellationToken)).ToList();
        var all = Task.WhenAll(waiting);
        if (timeout is null)
        {
            await all.ConfigureAwait(false);
            return true;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var finished = await Task.WhenAny(all, Task.Delay(timeout.Value, cts.Token)).ConfigureAwait(false);
        cts.Cancel();
        if (finished == all) await all.ConfigureAwait(false); // a cancellation surfaces here
        cancellationToken.ThrowIfCancellationRequested();
        return finished == all;
    }

    /// <summary>
    /// Aborts the tasks of <paramref name="results"/> (default: every outstanding task) that have not started: those
    /// queued in this client and those queued on their engines fail with <see cref="TaskAbortedException"/>; running
    /// tasks finish (ipyparallel's <c>client.abort</c>).
    /// </summary>
    public void Abort(IEnumerable<AsyncResult>? results = null) => _router.Abort(results);

    // ---- controller requests -------------------------------------------------------------------------------------

    /// <summary>
    /// Per engine: tasks queued, completed, and this client's load-balanced tasks there, as ipyparallel's
    /// <c>queue_status</c>; <see cref="QueueStatus.Unassigned"/>: load-balanced tasks still waiting in this client.
    /// </summary>
    public async Task<QueueStatus> QueueStatusAsync(CancellationToken cancellationToken = default)
    {
        var (reply, _) = await _controller.AskAsync("queue_status", cancellationToken: cancellationToken).ConfigureAwait(false);
        var engines = new SortedDictionary<int, EngineQueueStatus>();
        foreach (var (id, s) in reply["status"]!.AsObject())
        {
            int eid = int.Parse(id);
            _engines.TryGetValue(eid, out var e);
            // the engine reports in batches; this client knows its own outstanding work exactly
            engines[eid] = new EngineQueueStatus(Math.Max(s!["queue"]!.GetValue<int>(), e?.Outstanding ?? 0),
                s["completed"]!.GetValue<int>(), e?.BalancedOutstanding ?? 0);
        }
        return new QueueStatus(engines, _router.Unassigned);
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
        bool b => JsonValue.Create(b),
        byte or sbyte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value)),
        float or double or decimal => JsonValue.Create(Convert.ToDouble(value)),
        System.Collections.IEnumerable items => new JsonArray(items.Cast<object?>().Select(JsonQuery).ToArray()),
        _ => throw new ArgumentException($"a query value of type {value.GetType().Name} cannot be sent: use strings, numbers, " +
                                         "bools, DateTime, lists or dictionaries of them"),
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _router.Dispose();
        await _controller.DisposeAsync().ConfigureAwait(false);
        foreach (var engine in _engines.Values) engine.Dispose();
        _pump.Dispose();
    }
}

/// <summary>One engine's queue as <c>queue_status</c> reports it; <paramref name="Tasks"/>: this client's load-balanced tasks there.</summary>
public sealed record EngineQueueStatus(int Queue, int Completed, int Tasks);

/// <summary><c>queue_status</c>: per engine, and the load-balanced tasks not yet assigned to one.</summary>
public sealed record QueueStatus(IReadOnlyDictionary<int, EngineQueueStatus> Engines, int Unassigned)
{
    public EngineQueueStatus this[int engine] => Engines[engine];
}

/// <summary>What the balancer honours for a batch of load-balanced tasks.</summary>
internal sealed record BalancingOptions(int Retries, TimeSpan? Timeout, IReadOnlySet<int>? Allowed, Dependency? After, Dependency? Follow);
