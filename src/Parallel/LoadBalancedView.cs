using System.Collections;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Tasks go to whichever engine has room, the least loaded first (ipyparallel's <c>LoadBalancedView</c>); the balancer
/// runs in the client, so a finished task makes room for the next at once. Flags, as ipyparallel's, apply to the tasks
/// submitted after they are set: <see cref="Retries"/>, <see cref="Timeout"/>, <see cref="After"/>, <see cref="Follow"/>,
/// <see cref="Targets"/>, and for maps <see cref="ChunkSize"/> and <see cref="Ordered"/>.
/// </summary>
public sealed class LoadBalancedView
{
    private readonly Client _client;
    private IReadOnlyList<int>? _targets;
    private int _retries;
    private int _chunkSize = 1;
    private TimeSpan? _timeout;

    internal LoadBalancedView(Client client, IReadOnlyList<int>? targets)
    {
        _client = client;
        _targets = targets;
    }

    /// <summary>The engines tasks may run on (null: any engine, including ones that register later).</summary>
    public IReadOnlyList<int>? Targets
    {
        get => _targets;
        set
        {
            if (value is not null) _client.ResolveTargets(value);
            _targets = value;
        }
    }

    /// <summary>How many times a task that raised (or whose engine died) runs again, each time on an engine that has not tried it.</summary>
    public int Retries
    {
        get => _retries;
        set => _retries = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Retries), value, "Retries cannot be negative");
    }

    /// <summary>A task that has not started within this time fails with <see cref="TaskTimeoutException"/> (null: no limit).</summary>
    public TimeSpan? Timeout
    {
        get => _timeout;
        set => _timeout = value is null || value > TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(Timeout), value, "Timeout must be positive (or null for none)");
    }

    /// <summary>Tasks start only after these tasks finished as the dependency says (<c>view.After = ar;</c>).</summary>
    public Dependency? After { get; set; }

    /// <summary>Tasks run on the engine where these tasks ran.</summary>
    public Dependency? Follow { get; set; }

    /// <summary>Items per task of a <see cref="MapAsync{T}"/> (default 1).</summary>
    public int ChunkSize
    {
        get => _chunkSize;
        set => _chunkSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ChunkSize), value, "ChunkSize must be at least 1");
    }

    /// <summary>Whether map results come in input order (default) or in the order their chunks finish.</summary>
    public bool Ordered { get; set; } = true;

    private BalancingOptions Options() =>
        new(Retries, Timeout, _targets is null ? null : _client.ResolveTargets(_targets).ToHashSet(), After, Follow);

    /// <summary>
    /// Calls the function <paramref name="functionName"/> that Python <paramref name="source"/> defines with
    /// <paramref name="args"/>, on one engine.
    /// </summary>
    public AsyncResult<T> ApplyAsync<T>(string source, string functionName, params object?[] args) =>
        ApplyAsync<T>(PythonFunction.FromSource(source, functionName), args);

    /// <summary>Calls <paramref name="functionName"/>, defined in the engines' namespace, with <paramref name="args"/>, on one engine.</summary>
    public AsyncResult<T> ApplyAsync<T>(string functionName, params object?[] args) =>
        ApplyAsync<T>(PythonFunction.Named(functionName), args);

    /// <summary>Calls <paramref name="function"/> with <paramref name="args"/> on whichever engine has room.</summary>
    public AsyncResult<T> ApplyAsync<T>(PythonFunction function, params object?[] args) =>
        _client.SubmitBalanced([TaskPayloads.Apply(function.Pickle(), args)], Options(),
            m => new AsyncResult<T>(_client, "apply", m, null, values => ValueConversion.To<T>(values[0], $"{function.Name}(...)")));

    /// <summary>
    /// Calls <paramref name="function"/> on every item (<c>f(a[i], b[i], ...)</c> for several sequences, cut to the
    /// shortest), <see cref="ChunkSize"/> items per task, the tasks balanced over the engines. The result holds the
    /// items in input order (completion order unless <see cref="Ordered"/>); <c>await foreach</c> yields them as their
    /// chunks finish.
    /// </summary>
    public AsyncMapResult<T> MapAsync<T>(PythonFunction function, params IList[] sequences) =>
        Map<T>(function.ChunkPickle(), function.Name, sequences);

    /// <summary>
    /// Runs the C# static <paramref name="method"/> with <paramref name="args"/> on whichever engine has room (a
    /// <see cref="Reference"/> passes an engine variable, <see cref="Reference.World"/> the engines' MPI world). The
    /// engine loads its assembly from the same path, once per build, and calls it natively. Lambdas and instance
    /// methods are refused: their state cannot travel.
    /// </summary>
    public AsyncResult<T> ApplyAsync<T>(Delegate method, params object?[] args)
    {
        var m = CSharpMethod.From(method);
        return _client.SubmitBalanced([TaskPayloads.Apply(m.Pickle(), args)], Options(),
            ids => new AsyncResult<T>(_client, "apply", ids, null, values => ValueConversion.To<T>(values[0], $"{m.Name}(...)")));
    }

    /// <summary>
    /// Maps the C# static <paramref name="method"/> over <paramref name="items"/>, <see cref="ChunkSize"/> items per
    /// task, balanced over the engines; each engine runs its chunks natively (a compiled loop, no Python per item).
    /// </summary>
    public AsyncMapResult<TResult> MapAsync<T1, TResult>(Func<T1, TResult> method, IList<T1> items) =>
        MapNative<TResult>(CSharpMethod.From(method), [TaskPayloads.AsList(items)]);

    /// <summary>Maps the C# static <paramref name="method"/> over pairs of items (cut to the shorter sequence).</summary>
    public AsyncMapResult<TResult> MapAsync<T1, T2, TResult>(Func<T1, T2, TResult> method, IList<T1> first, IList<T2> second) =>
        MapNative<TResult>(CSharpMethod.From(method), [TaskPayloads.AsList(first), TaskPayloads.AsList(second)]);

    private AsyncMapResult<T> MapNative<T>(CSharpMethod method, IList[] sequences) => Map<T>(method.MapPickle(), method.Name, sequences);

    private AsyncMapResult<T> Map<T>(byte[] chunkFunction, string name, IList[] sequences)
    {
        int length = Sequences.CommonLength(sequences);
        var chunks = Sequences.Chunks(length, ChunkSize);
        var payloads = TaskPayloads.MapChunks(chunkFunction, sequences, chunks);
        bool ordered = Ordered;
        return _client.SubmitBalanced(payloads, Options(),
            m => new AsyncMapResult<T>(_client, "map", m, null, chunks.Select(c => c.Count).ToArray(), ordered,
                (i, v) => TaskPayloads.ChunkItems<T>(v, $"{name} on items {chunks[i].Start}..{chunks[i].Start + chunks[i].Count - 1}")));
    }

    public override string ToString() => $"<LoadBalancedView {(_targets is null ? "any engine" : string.Join(", ", _targets))}>";
}
