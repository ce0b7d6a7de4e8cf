namespace PyMpiBridge.Parallel.Scheduling;

/// <summary>
/// Where every task of a client goes and how it ends. Direct tasks are sent to their engine at once; load-balanced
/// tasks go through the <see cref="LoadBalancer"/>, which sends them as engines have room. Replies (and lost engines)
/// come back to <see cref="Finished"/>: a failed load-balanced task with retries left is queued again, anything else
/// is recorded in the <see cref="TaskLedger"/> (for dependencies) and completes its <see cref="AsyncResult"/>.
/// One lock guards the balancer, the ledger and the outstanding tasks.
/// </summary>
internal sealed class TaskRouter : IDisposable
{
    private readonly object _lock = new();
    private readonly TaskLedger _ledger = new();
    private readonly Dictionary<string, ClientTask> _outstanding = [];
    private readonly LoadBalancer _balancer;
    private readonly Func<IReadOnlyList<EngineConnection>> _engines;
    private readonly Timer _deadlines;
    private bool _closed;
    private string? _clusterGone;
    private bool _dispatching, _dispatchAgain;
    private int _dispatchQueued;

    /// <param name="session">The client's session (msg_ids of its own tasks start with it).</param>
    /// <param name="engines">The client's engines (alive or not).</param>
    public TaskRouter(string session, Func<IReadOnlyList<EngineConnection>> engines)
    {
        _balancer = new LoadBalancer(_ledger, session);
        _engines = engines;
        _deadlines = new Timer(_ => ExpireDeadlines());
    }

    /// <summary>msg_ids of the tasks that have not finished (queued here, or sent and not answered).</summary>
    public IReadOnlyCollection<string> Outstanding
    {
        get { lock (_lock) return _outstanding.Keys.ToList(); }
    }

    /// <summary>The results that still wait for a task.</summary>
    public IReadOnlyList<AsyncResult> OutstandingResults
    {
        get { lock (_lock) return _outstanding.Values.Select(t => t.Result).Distinct().ToList(); }
    }

    /// <summary>Load-balanced tasks waiting in this client (queued, or for dependencies).</summary>
    public int Unassigned
    {
        get { lock (_lock) return _balancer.Count; }
    }

    /// <summary>Sends each task to its engine (<paramref name="engines"/>[i] for <paramref name="tasks"/>[i]).</summary>
    public void SubmitDirect(IReadOnlyList<ClientTask> tasks, IReadOnlyList<EngineConnection> engines)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            foreach (var t in tasks) _outstanding[t.MsgId] = t;
        }
        for (int i = 0; i < tasks.Count; i++) engines[i].Send([tasks[i]]);
    }

    /// <summary>Queues load-balanced tasks; an isolated call is sent at once, a burst by one dispatch on the thread pool.</summary>
    public void SubmitBalanced(IReadOnlyList<ClientTask> tasks)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            bool idle = !_balancer.HasWork && _engines().All(e => e.BalancedOutstanding == 0);
            foreach (var t in tasks)
            {
                _outstanding[t.MsgId] = t;
                _balancer.Enqueue(t);
            }
            if (tasks.Any(t => t.Deadline is not null)) ArmDeadlineTimer();
            if (idle)
            {
                DispatchLocked(); // nothing in flight: it must not wait for a thread
                return;
            }
        }
        // a burst: whatever has queued up by the time the dispatch runs goes out in one write per engine
        if (Interlocked.Exchange(ref _dispatchQueued, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static self =>
            {
                Volatile.Write(ref self._dispatchQueued, 0);
                lock (self._lock) self.DispatchLocked();
            }, this, preferLocal: false);
    }

    /// <summary>Replies arrived from <paramref name="engine"/> (or it was lost): the tasks end, or are retried elsewhere; then one dispatch.</summary>
    public void Finished(EngineConnection engine, IReadOnlyList<(ClientTask Task, TaskOutcome Outcome)> finished)
    {
        lock (_lock)
        {
            foreach (var (task, outcome) in finished)
            {
                if (task.Balanced)
                {
                    engine.BalancedOutstanding--;
                    if (outcome.RunSeconds > 0) engine.AverageTaskSeconds = 0.8 * engine.AverageTaskSeconds + 0.2 * outcome.RunSeconds;
                    // failed here, retries left: an engine that has not tried it gets it
                    if (outcome.Retryable && !_closed && _balancer.Retry(task, engine.Id)) continue;
                }
                CompleteLocked(task, outcome.Value, outcome.Error, outcome.Metadata);
            }
            if (_balancer.HasWork) DispatchLocked();
        }
    }

    /// <summary>An engine connected: queued tasks may go there.</summary>
    public void EngineAdded()
    {
        lock (_lock) DispatchLocked();
    }

    /// <summary>An engine was lost: queued tasks only it could run can never run.</summary>
    public void EngineLost()
    {
        lock (_lock)
        {
            var failed = new List<(ClientTask, Exception)>();
            _balancer.FailUnrunnable(_engines(), failed);
            foreach (var (task, error) in failed) CompleteLocked(task, null, error, null);
            DispatchLocked();
        }
    }

    private void DispatchLocked()
    {
        if (_dispatching)
        {
            _dispatchAgain = true; // re-entered (a send found its engine dead): the outer loop goes again
            return;
        }
        _dispatching = true;
        try
        {
            do
            {
                _dispatchAgain = false;
                var batches = new Dictionary<EngineConnection, List<ClientTask>>();
                var failed = new List<(ClientTask, Exception)>();
                _balancer.Dispatch(_engines(), batches, failed);
                foreach (var (task, error) in failed) CompleteLocked(task, null, error, null);
                if (failed.Count > 0) _dispatchAgain = true; // a failure may decide other tasks' dependencies
                foreach (var (engine, list) in batches) engine.Send(list);
            } while (_dispatchAgain && !_closed);
        }
        finally
        {
            _dispatching = false;
        }
    }

    private void CompleteLocked(ClientTask task, object? value, Exception? error, TaskMetadata? metadata)
    {
        _outstanding.Remove(task.MsgId);
        _ledger.Record(task.MsgId, error is null, metadata?.EngineId ?? (error is null ? task.Engine : null));
        task.Result.Complete(task.Index, value, error, metadata);
    }

    /// <summary>
    /// Aborts the tasks of <paramref name="results"/> (null: every outstanding task) that have not started: queued here
    /// they fail at once with <see cref="TaskAbortedException"/>, queued on an engine the engine drops them.
    /// </summary>
    public void Abort(IEnumerable<AsyncResult>? results)
    {
        lock (_lock)
        {
            var ids = results is null ? _outstanding.Keys.ToHashSet() : results.SelectMany(r => r.MsgIds).ToHashSet();
            foreach (var task in _balancer.Remove(t => ids.Contains(t.MsgId)))
                CompleteLocked(task, null, new TaskAbortedException($"task {task.MsgId} was aborted before it ran"), null);
            var engines = _engines().ToDictionary(e => e.Id);
            foreach (var group in _outstanding.Values.Where(t => ids.Contains(t.MsgId) && t.Engine is not null).GroupBy(t => t.Engine!.Value))
                if (engines.TryGetValue(group.Key, out var engine))
                    engine.Abort(group.Where(t => engine.IsPending(t.Seq)).Select(t => t.Seq).ToList());
            if (_balancer.HasWork) DispatchLocked(); // an aborted task may decide dependencies
        }
    }

    private void ArmDeadlineTimer()
    {
        if (_balancer.NextDeadlineIn(Environment.TickCount64) is { } due) _deadlines.Change(due, Timeout.Infinite);
    }

    private void ExpireDeadlines()
    {
        lock (_lock)
        {
            if (_closed) return;
            foreach (var task in _balancer.Expire(Environment.TickCount64))
                CompleteLocked(task, null, new TaskTimeoutException($"task {task.MsgId} did not start within its timeout"), null);
            ArmDeadlineTimer();
            if (_balancer.HasWork) DispatchLocked();
        }
    }

    /// <summary>Throws when no task can be submitted: the client is closed, or its cluster is gone.</summary>
    public void ThrowIfUnusable()
    {
        lock (_lock) ThrowIfClosed();
    }

    private void ThrowIfClosed()
    {
        if (_closed) throw new ObjectDisposedException(nameof(Client), "the client is closed: connect a new one");
        if (_clusterGone is { } why)
            throw new ConnectionLostException($"the cluster is gone ({why}): connect to a running one with Client.ConnectAsync, " +
                                              "or start one with Cluster.StartAsync or './pympi cluster start'");
    }

    /// <summary>The controller went away (the cluster stopped): no engine will come, so queued tasks fail now.</summary>
    public void ClusterGone(string reason)
    {
        lock (_lock)
        {
            _clusterGone ??= reason;
            foreach (var task in _balancer.Remove(_ => true))
                CompleteLocked(task, null, new ConnectionLostException($"task {task.MsgId} never ran: the cluster is gone ({reason})"), null);
        }
    }

    /// <summary>The client closes: queued tasks fail (tasks on engines fail as the connections close).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            foreach (var task in _balancer.Remove(_ => true))
                CompleteLocked(task, null, new ConnectionLostException($"task {task.MsgId} never ran: the client was closed"), null);
        }
        _deadlines.Dispose();
    }
}
