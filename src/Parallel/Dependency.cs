using PyMpiBridge.Parallel.Scheduling;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Tasks a load-balanced task depends on (ipyparallel's <c>Dependency</c>), for <see cref="LoadBalancedView.After"/>
/// (start only once they finished) and <see cref="LoadBalancedView.Follow"/> (run where they ran). <see cref="All"/>:
/// every one of them, or any one; <see cref="Success"/>/<see cref="Failure"/>: which outcomes count. A dependency that
/// can no longer be met fails the task with <see cref="DependencyException"/> instead of leaving it queued.
/// </summary>
public sealed class Dependency
{
    /// <summary>A dependency on the tasks of <paramref name="results"/> (and/or msg_ids in <paramref name="msgIds"/>).</summary>
    public Dependency(IEnumerable<AsyncResult>? results = null, IEnumerable<string>? msgIds = null, bool all = true,
        bool success = true, bool failure = false)
    {
        if (!success && !failure)
            throw new ArgumentException("a dependency must be met by success, failure, or both");
        var ids = new List<string>();
        foreach (var r in results ?? []) ids.AddRange(r.MsgIds);
        ids.AddRange(msgIds ?? []);
        MsgIds = ids.Distinct().ToList();
        All = all;
        Success = success;
        Failure = failure;
    }

    /// <summary>The tasks depended on.</summary>
    public IReadOnlyList<string> MsgIds { get; }
    /// <summary>Every task must meet it (true), or any one (false).</summary>
    public bool All { get; }
    /// <summary>A task that succeeded meets it.</summary>
    public bool Success { get; }
    /// <summary>A task that failed meets it.</summary>
    public bool Failure { get; }

    /// <summary>Every task of <paramref name="results"/>, succeeded.</summary>
    public static implicit operator Dependency(AsyncResult[] results) => new(results);

    /// <summary>The one task (or tasks) of <paramref name="result"/>, succeeded.</summary>
    public static implicit operator Dependency(AsyncResult result) => new([result]);

    internal enum State { Met, Pending, Impossible, Invalid }

    /// <summary>Where this dependency stands for <paramref name="session"/>'s tasks recorded in <paramref name="ledger"/>.</summary>
    internal State Evaluate(TaskLedger ledger, string session)
    {
        if (MsgIds.Count == 0) return State.Met;
        int met = 0, impossible = 0, pending = 0;
        foreach (string id in MsgIds)
        {
            if (ledger.TryGet(id, out bool ok, out _))
            {
                bool counts = ok ? Success : Failure;
                if (counts) met++;
                else impossible++;
                continue;
            }
            // The balancer runs in this client and learns only of its own tasks finishing: another session's msg_id
            // (or a typo) would keep the task waiting forever.
            if (!id.StartsWith(session + "_", StringComparison.Ordinal)) return State.Invalid;
            pending++;
        }
        if (All) return impossible > 0 ? State.Impossible : pending == 0 ? State.Met : State.Pending;
        return met > 0 ? State.Met : pending == 0 ? State.Impossible : State.Pending;
    }

    private HashSet<int> EnginesOf(TaskLedger ledger)
    {
        var engines = new HashSet<int>();
        foreach (string id in MsgIds)
            if (ledger.TryGet(id, out _, out int? engine) && engine is { } e) engines.Add(e);
        return engines;
    }

    /// <summary>For <c>follow</c>: may the task run on <paramref name="engine"/> now?</summary>
    internal bool AllowsEngine(TaskLedger ledger, int engine)
    {
        if (MsgIds.Count == 0) return true;
        var engines = EnginesOf(ledger);
        return All ? engines.Count == 1 && engines.Contains(engine) : engines.Contains(engine);
    }

    /// <summary>For <c>follow</c>: could the task ever run on <paramref name="engine"/>?</summary>
    internal bool CouldAllowEngine(TaskLedger ledger, int engine)
    {
        if (MsgIds.Count == 0) return true;
        var engines = EnginesOf(ledger);
        return !(All && engines.Count > 1) && engines.Contains(engine);
    }

    public override string ToString() => $"<Dependency {(All ? "all" : "any")} of {MsgIds.Count} task(s)>";
}
