using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>What a client asks the controller (the hub): queue status, the task database, earlier results, purges.</summary>
public sealed partial class Client
{
    /// <summary>How long a finished task of this client may take to show up in the task database (engines report in batches).</summary>
    private static readonly TimeSpan RecordDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RecordPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>The payloads of this client's load-balanced tasks, for <see cref="ResubmitAsync{T}(string[])"/> (dropped by purges).</summary>
    private readonly ConcurrentDictionary<string, IReadOnlyList<FramePart>> _resubmittable = new();

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

    // ---- earlier results -----------------------------------------------------------------------------------------

    /// <summary>
    /// The results of earlier tasks by msg_id (<see cref="AsyncResult.MsgIds"/>, <see cref="HubHistoryAsync"/>,
    /// <see cref="DbQueryAsync"/>), this client's or another client's, as ipyparallel's <c>client.get_result</c>: read
    /// from the controller's task database, one item per msg_id, with the tasks' <see cref="AsyncResult.Metadata"/>. A
    /// task still running (another client's, or this one's) completes when its record arrives. A msg_id nobody ran fails
    /// with <see cref="KeyNotFoundException"/>; a cluster without a database (<c>db: "none"</c>) fails every item.
    /// </summary>
    public AsyncMapResult<T> GetResultAsync<T>(params string[] msgIds)
    {
        ArgumentNullException.ThrowIfNull(msgIds);
        if (msgIds.Length == 0) throw new ArgumentException("name at least one msg_id (AsyncResult.MsgIds, HubHistoryAsync)", nameof(msgIds));
        foreach (string id in msgIds)
            if (string.IsNullOrEmpty(id)) throw new ArgumentException("a msg_id is empty", nameof(msgIds));
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var result = new AsyncMapResult<T>(this, "get_result", msgIds, null, Enumerable.Repeat(1, msgIds.Length).ToArray(), ordered: true,
            (i, v) => [ValueConversion.To<T>(v, $"task {msgIds[i]}")]);
        _ = FillFromRecordsAsync(result, msgIds);
        return result;
    }

    /// <summary>The results of <paramref name="earlier"/>'s tasks read back from the task database (see <see cref="GetResultAsync{T}(string[])"/>).</summary>
    public AsyncMapResult<T> GetResultAsync<T>(AsyncResult earlier) => GetResultAsync<T>(earlier.MsgIds.ToArray());

    private async Task FillFromRecordsAsync(AsyncResult result, string[] msgIds)
    {
        var pending = Enumerable.Range(0, msgIds.Length).ToList();
        var since = DateTime.UtcNow;
        while (pending.Count > 0 && _disposed == 0)
        {
            Dictionary<object, object?> records;
            try
            {
                var fields = new JsonObject { ["msg_ids"] = new JsonArray(pending.Select(i => (JsonNode?)msgIds[i]).Distinct().ToArray()) };
                var (_, blobs) = await _controller.AskAsync("get_records", fields).ConfigureAwait(false);
                records = PickleReader.Loads(blobs[0]) as Dictionary<object, object?>
                          ?? throw new InvalidDataException("the controller's get_records answer is not a dict");
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or InvalidDataException
                                          or UnsupportedPickleException or ObjectDisposedException)
            {
                foreach (int i in pending) result.Complete(i, null, e, null); // no database, or the controller is gone
                return;
            }
            var outstanding = _router.Outstanding.ToHashSet();
            foreach (int i in pending.ToList())
            {
                if (records.TryGetValue(msgIds[i], out var record) && record is Dictionary<object, object?> r)
                {
                    var (value, error, metadata) = TaskRecords.Outcome(r, result.ReceivesNdArrays);
                    result.Complete(i, value, error, metadata);
                    pending.Remove(i);
                }
                else if (!MayStillBeRecorded(msgIds[i], outstanding, since))
                {
                    result.Complete(i, null, new KeyNotFoundException(
                        $"no task {msgIds[i]}: it is not in the task database (purged, or never run on this cluster)"), null);
                    pending.Remove(i);
                }
            }
            if (pending.Count > 0) await Task.Delay(RecordPoll).ConfigureAwait(false);
        }
        foreach (int i in pending) // nobody waits forever
            result.Complete(i, null, new ObjectDisposedException(nameof(Client), $"the client was closed before task {msgIds[i]}'s record arrived"), null);
    }

    /// <summary>
    /// Whether a msg_id without a record may get one: another client's task may still be running; this client's is
    /// outstanding, or finished a moment ago (records reach the database in batches).
    /// </summary>
    private bool MayStillBeRecorded(string msgId, HashSet<string> outstanding, DateTime since)
    {
        int underscore = msgId.LastIndexOf('_');
        if (underscore <= 0 || !ulong.TryParse(msgId.AsSpan(underscore + 1), out ulong seq)) return false;
        if (msgId.AsSpan(0, underscore).SequenceEqual(Session))
            return seq <= (ulong)Interlocked.Read(ref _seq) && (outstanding.Contains(msgId) || DateTime.UtcNow - since < RecordDelay);
        return true;
    }

    /// <summary>
    /// Runs earlier load-balanced tasks of this client again, with the same function and arguments (as ipyparallel's
    /// <c>client.resubmit</c>): new tasks, new msg_ids, one item per task. Only this client's load-balanced apply and map
    /// tasks can be resubmitted (it keeps what they sent until <see cref="PurgeResultsAsync"/>); others are refused.
    /// </summary>
    public AsyncMapResult<T> ResubmitAsync<T>(params string[] msgIds)
    {
        ArgumentNullException.ThrowIfNull(msgIds);
        if (msgIds.Length == 0) throw new ArgumentException("name at least one msg_id to resubmit", nameof(msgIds));
        var payloads = new List<IReadOnlyList<FramePart>>(msgIds.Length);
        foreach (string id in msgIds)
            payloads.Add(_resubmittable.TryGetValue(id, out var payload) ? payload : throw new KeyNotFoundException(
                $"cannot resubmit {id}: only this client's load-balanced tasks can be resubmitted (and not after PurgeResultsAsync)"));
        var options = new BalancingOptions(0, null, null, null, null);
        return SubmitBalanced(payloads, options, ids => new AsyncMapResult<T>(this, "resubmit", ids, null,
            Enumerable.Repeat(1, ids.Count).ToArray(), ordered: true, (i, v) => [ValueConversion.To<T>(v, $"task {ids[i]}")]));
    }

    /// <summary>Runs <paramref name="earlier"/>'s tasks again (see <see cref="ResubmitAsync{T}(string[])"/>).</summary>
    public AsyncMapResult<T> ResubmitAsync<T>(AsyncResult earlier) => ResubmitAsync<T>(earlier.MsgIds.ToArray());

    /// <summary>
    /// Drops task records from the controller's database, and what this client kept to resubmit them (ipyparallel's
    /// <c>client.purge_results</c>): the tasks <paramref name="msgIds"/>, every task that ran on
    /// <paramref name="engines"/> (database only), or with <paramref name="all"/> everything. Tasks still outstanding cannot be purged
    /// (wait for them first). Returns how many records were dropped.
    /// </summary>
    public async Task<int> PurgeResultsAsync(IEnumerable<string>? msgIds = null, IEnumerable<int>? engines = null, bool all = false,
        CancellationToken cancellationToken = default)
    {
        var ids = msgIds?.ToList() ?? [];
        var engineIds = engines?.ToList() ?? [];
        if (!all && ids.Count == 0 && engineIds.Count == 0)
            throw new ArgumentException("say what to purge: msgIds, engines, or all: true");
        var outstanding = _router.Outstanding;
        var busy = all ? outstanding.ToList() : ids.Where(outstanding.Contains).ToList();
        if (busy.Count > 0)
            throw new InvalidOperationException($"cannot purge {busy.Count} outstanding task(s) ({string.Join(", ", busy.Take(3))}" +
                                                $"{(busy.Count > 3 ? ", ..." : "")}): wait for them first (client.WaitAsync)");
        foreach (int e in engineIds)
            if (!_engines.ContainsKey(e)) throw new ArgumentOutOfRangeException(nameof(engines), e, $"no engine with id {e} (engines: {string.Join(", ", Ids)})");
        var fields = all ? new JsonObject { ["all"] = true } : new JsonObject
        {
            ["msg_ids"] = new JsonArray(ids.Select(i => (JsonNode?)i).ToArray()),
            ["engine_ids"] = new JsonArray(engineIds.Select(e => (JsonNode?)e).ToArray()),
        };
        var (reply, _) = await _controller.AskAsync("purge_results", fields, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (all) _resubmittable.Clear();
        foreach (string id in ids) _resubmittable.TryRemove(id, out _);
        return reply["dropped"]?.GetValue<int>() ?? 0;
    }

    /// <summary>Drops <paramref name="earlier"/>'s task records (see <see cref="PurgeResultsAsync"/>).</summary>
    public Task<int> PurgeResultsAsync(AsyncResult earlier, CancellationToken cancellationToken = default) =>
        PurgeResultsAsync(earlier.MsgIds, cancellationToken: cancellationToken);
}
