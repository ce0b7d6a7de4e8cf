namespace PyMpiBridge.Parallel.Scheduling;

/// <summary>
/// The load balancer of a client (as <c>python/pympibridge/parallel/_balancer.py</c>): load-balanced tasks wait here
/// until an engine has room, and a finished task immediately makes room for the next, with no controller in between.
/// An engine's room is about a millisecond of work (<see cref="EngineConnection.HighWaterMark"/>). <c>after</c>/<c>follow</c>
/// dependencies, retries (on engines that have not failed the task) and timeouts (not started in time) are decided
/// here. Everything runs under the router's lock; the balancer only decides, the router sends and completes.
/// </summary>
internal sealed class LoadBalancer(TaskLedger ledger, string session)
{
    private readonly LinkedList<ClientTask> _queue = new();
    private List<ClientTask> _waiting = [];

    /// <summary>Tasks queued or waiting for dependencies.</summary>
    public int Count => _queue.Count + _waiting.Count;

    public bool HasWork => _queue.Count > 0 || _waiting.Count > 0;

    public void Enqueue(ClientTask task)
    {
        if (task.After is not null || task.Follow is not null) _waiting.Add(task);
        else _queue.AddLast(task);
    }

    /// <summary>Queues a task that failed on <paramref name="engine"/> again, for another engine; false when no retries remain.</summary>
    public bool Retry(ClientTask task, int engine)
    {
        if (task.RetriesLeft <= 0) return false;
        task.RetriesLeft--;
        (task.Tried ??= []).Add(engine);
        task.Engine = null;
        _queue.AddLast(task);
        return true;
    }

    /// <summary>
    /// Picks engines for queued tasks: adds to <paramref name="batches"/> what to send where, and to
    /// <paramref name="failed"/> tasks that can never run (with why).
    /// </summary>
    public void Dispatch(IReadOnlyList<EngineConnection> engines, Dictionary<EngineConnection, List<ClientTask>> batches,
        List<(ClientTask, Exception)> failed)
    {
        if (_waiting.Count > 0) CheckDependencies(failed);
        if (_queue.Count == 0) return;
        var alive = engines.Where(e => e.Alive).ToList();
        var room = alive.ToDictionary(e => e, e => e.HighWaterMark - e.BalancedOutstanding);
        int free = room.Values.Sum(r => Math.Max(r, 0));
        for (var node = _queue.First; node is not null && free > 0;)
        {
            var next = node.Next;
            var task = node.Value;
            EngineConnection? best = task.Constrained ? BestAllowed(task, alive, room) : LeastLoaded(room);
            if (best is null)
            {
                if (!task.Constrained) break; // no room anywhere: later tasks wait too
                if (!CanEverRun(task, alive))
                {
                    _queue.Remove(node);
                    failed.Add((task, Unrunnable()));
                }
                node = next;
                continue;
            }
            _queue.Remove(node);
            room[best]--;
            free--;
            best.BalancedOutstanding++;
            if (!batches.TryGetValue(best, out var list)) batches[best] = list = [];
            list.Add(task);
            node = next;
        }
    }

    /// <summary>After an engine was lost: fails the queued tasks no live engine may ever run.</summary>
    public void FailUnrunnable(IReadOnlyList<EngineConnection> engines, List<(ClientTask, Exception)> failed)
    {
        var alive = engines.Where(e => e.Alive).ToList();
        foreach (var task in Remove(t => t.Constrained && !CanEverRun(t, alive))) failed.Add((task, Unrunnable()));
    }

    private static DependencyException Unrunnable() =>
        new("no engine can run this task: every engine it may run on is dead, or already failed it");

    /// <summary>
    /// The engine with the fewest outstanding tasks among those with room (ipyparallel's "leastload"). Not the one
    /// with the most room: an engine that learnt a deep queue from tiny tasks would take every task of a following
    /// burst of long ones while the others idle.
    /// </summary>
    private static EngineConnection? LeastLoaded(Dictionary<EngineConnection, int> room)
    {
        EngineConnection? best = null;
        foreach (var (engine, r) in room)
            if (r > 0 && (best is null || engine.BalancedOutstanding < best.BalancedOutstanding)) best = engine;
        return best;
    }

    private EngineConnection? BestAllowed(ClientTask task, List<EngineConnection> alive, Dictionary<EngineConnection, int> room)
    {
        EngineConnection? best = null;
        foreach (var e in alive)
        {
            if (room[e] <= 0 || !MayRun(task, e.Id, possibleOnly: false)) continue;
            if (best is null || e.BalancedOutstanding < best.BalancedOutstanding) best = e;
        }
        return best;
    }

    private bool MayRun(ClientTask task, int engine, bool possibleOnly)
    {
        if (task.Allowed is not null && !task.Allowed.Contains(engine)) return false;
        if (task.Tried is not null && task.Tried.Contains(engine)) return false;
        if (task.Follow is null) return true;
        return possibleOnly ? task.Follow.CouldAllowEngine(ledger, engine) : task.Follow.AllowsEngine(ledger, engine);
    }

    private bool CanEverRun(ClientTask task, List<EngineConnection> alive) => alive.Any(e => MayRun(task, e.Id, possibleOnly: true));

    private void CheckDependencies(List<(ClientTask, Exception)> failed)
    {
        var still = new List<ClientTask>();
        foreach (var task in _waiting)
        {
            var after = task.After?.Evaluate(ledger, session) ?? Dependency.State.Met;
            var follow = task.Follow?.Evaluate(ledger, session) ?? Dependency.State.Met;
            if (after == Dependency.State.Invalid || follow == Dependency.State.Invalid)
                Fail(task, new DependencyException(
                    "a dependency names a task this client does not know (a typo, or another client's task)", invalid: true));
            else if (after == Dependency.State.Impossible || follow == Dependency.State.Impossible)
                Fail(task, new DependencyException(
                    "a dependency of this task can never be met (a task it depends on failed, or succeeded when failure was required)"));
            else if (after == Dependency.State.Met && follow == Dependency.State.Met) _queue.AddLast(task);
            else still.Add(task);
        }
        _waiting = still;

        void Fail(ClientTask task, Exception error) => failed.Add((task, error));
    }

    /// <summary>Removes the tasks whose deadline passed before they started; returns them.</summary>
    public List<ClientTask> Expire(long now) => Remove(t => t.Deadline <= now);

    /// <summary>Milliseconds until the next deadline (0 when one passed), or null.</summary>
    public long? NextDeadlineIn(long now)
    {
        long? next = null;
        foreach (var t in _queue.Concat(_waiting))
            if (t.Deadline is { } d && (next is null || d < next)) next = d;
        return next is null ? null : Math.Max(0, next.Value - now);
    }

    /// <summary>Removes the queued or waiting tasks <paramref name="select"/> chooses; returns them.</summary>
    public List<ClientTask> Remove(Func<ClientTask, bool> select)
    {
        var removed = new List<ClientTask>();
        for (var node = _queue.First; node is not null;)
        {
            var next = node.Next;
            if (select(node.Value))
            {
                removed.Add(node.Value);
                _queue.Remove(node);
            }
            node = next;
        }
        if (_waiting.Any(select))
        {
            removed.AddRange(_waiting.Where(select));
            _waiting = _waiting.Where(t => !select(t)).ToList();
        }
        return removed;
    }
}
