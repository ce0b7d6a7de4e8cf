using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Tasks submitted to one or more engines (ipyparallel's <c>AsyncResult</c>): awaitable, or <see cref="Wait"/>/<c>Get</c>
/// with a timeout; timing fields as ipyparallel's. Direct views run one task per target engine, in target order; a
/// load-balanced task learns its engine when the balancer sends it (<see cref="EngineIds"/>).
/// Waiting with a <see cref="CancellationToken"/> (<see cref="WaitAsync"/>, <c>AsTask(token)</c>) aborts the tasks that
/// have not started when the token is cancelled.
/// </summary>
public class AsyncResult
{
    private protected readonly object Gate = new();
    private readonly Client _client;
    private readonly object?[] _values;
    private readonly Exception?[] _errors;
    private readonly TaskMetadata?[] _metadata;
    private readonly bool[] _completed;
    private readonly int?[] _engines;
    private readonly List<int> _arrival = [];
    private readonly DateTime _created = DateTime.UtcNow;
    private int _remaining;
    private DateTime? _finished;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private protected readonly TaskCompletionSource<object?[]> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal AsyncResult(Client client, string method, IReadOnlyList<string> msgIds, IReadOnlyList<int>? targets = null)
    {
        _client = client;
        Method = method;
        MsgIds = msgIds;
        int n = msgIds.Count;
        _values = new object?[n];
        _errors = new Exception?[n];
        _metadata = new TaskMetadata?[n];
        _completed = new bool[n];
        _engines = new int?[n];
        for (int i = 0; targets is not null && i < n; i++) _engines[i] = targets[i];
        _remaining = n;
        if (n == 0) Finish();
    }

    /// <summary>What was asked: apply, map, execute, push, pull, scatter, gather, clear.</summary>
    public string Method { get; }
    /// <summary>The tasks' ids (<c>{session}_{seq}</c>), as the task database knows them.</summary>
    public IReadOnlyList<string> MsgIds { get; }
    /// <summary>How many tasks this result waits for.</summary>
    public int TaskCount => MsgIds.Count;

    /// <summary>Per task, the engine it was sent to (null while a load-balanced task waits in the client).</summary>
    public IReadOnlyList<int?> EngineIds { get { lock (Gate) return (int?[])_engines.Clone(); } }

    /// <summary>The engine of a single-task result (ipyparallel's <c>ar.engine_id</c>).</summary>
    public int EngineId
    {
        get
        {
            if (TaskCount != 1) throw new InvalidOperationException($"this result has {TaskCount} tasks: use EngineIds or Metadata");
            lock (Gate)
                return _engines[0] ?? throw new InvalidOperationException(
                    _completed[0] ? "the task never reached an engine (it failed in the client: see the exception)"
                                  : "the task has not been sent to an engine yet (it waits in the load balancer)");
        }
    }

    public bool Ready => Done.Task.IsCompleted;

    /// <summary>True when every task succeeded; throws while not <see cref="Ready"/> (as ipyparallel's <c>successful()</c>).</summary>
    public bool Successful => Ready ? Done.Task.IsCompletedSuccessfully
        : throw new InvalidOperationException("the tasks have not finished: Successful is only known when Ready");

    /// <summary>How many tasks have finished (for a map: how many items).</summary>
    public virtual int Progress { get { lock (Gate) return TaskCount - _remaining; } }

    /// <summary>What <see cref="Progress"/> counts up to.</summary>
    private protected virtual int ProgressTotal => TaskCount;

    /// <summary>Per task, once it ran on an engine (null before, and for tasks that failed in this client).</summary>
    public IReadOnlyList<TaskMetadata?> Metadata { get { lock (Gate) return (TaskMetadata?[])_metadata.Clone(); } }

    /// <summary>From submission until the last result arrived (or until now while running).</summary>
    public TimeSpan Elapsed => (_finished ?? DateTime.UtcNow) - _created;

    /// <summary>The sum of the tasks' run times on their engines (ipyparallel's <c>serial_time</c>).</summary>
    public TimeSpan SerialTime => Metadata.Aggregate(TimeSpan.Zero, (acc, m) => acc + (m?.Completed - m?.Started ?? TimeSpan.Zero));

    /// <summary>From the first submission to the last reply received (ipyparallel's <c>wall_time</c>).</summary>
    public TimeSpan WallTime
    {
        get
        {
            var md = Metadata.Where(m => m is not null).ToList();
            return md.Count == 0 ? TimeSpan.Zero : md.Max(m => m!.Received) - md.Min(m => m!.Submitted);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when every task finished.</summary>
    public bool Wait(TimeSpan timeout)
    {
        try { return ((Task)Done.Task).Wait(timeout); }
        catch (AggregateException) { return true; }
    }

    /// <summary>
    /// Waits until every task finished (successfully or not: this does not throw their failures). Cancelling
    /// <paramref name="cancellationToken"/> aborts the tasks that have not started and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        try { await Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AbortIfPending();
            throw;
        }
        catch (Exception) { } // the tasks' own failures: this only waits
    }

    /// <summary>Waits for every task; throws the failure(s).</summary>
    public TaskAwaiter GetAwaiter() => ((Task)Done.Task).GetAwaiter();

    /// <summary>The whole result as a task.</summary>
    public Task AsTask() => Done.Task;

    /// <summary>
    /// Aborts the tasks that have not started: queued in the load balancer, or queued on their engine (they fail with
    /// <see cref="TaskAbortedException"/>); running tasks finish. As ipyparallel, aborting a finished result is an error.
    /// </summary>
    public void Abort()
    {
        if (Ready) throw new InvalidOperationException("cannot abort: every task of this result has already finished");
        _client.Abort([this]);
    }

    /// <summary>A wait on this result was cancelled: its tasks that have not started are aborted.</summary>
    private protected void AbortIfPending()
    {
        if (!Ready) _client.Abort([this]);
    }

    // ---- filled in by the client ---------------------------------------------------------------------------------

    internal void Dispatched(int index, int engine)
    {
        lock (Gate) _engines[index] = engine;
    }

    internal void Complete(int index, object? value, Exception? error, TaskMetadata? metadata)
    {
        TaskCompletionSource changed;
        bool last;
        lock (Gate)
        {
            if (_completed[index]) return;
            _completed[index] = true;
            _values[index] = value;
            _errors[index] = error;
            _metadata[index] = metadata;
            if (metadata is not null) _engines[index] = metadata.EngineId;
            _arrival.Add(index);
            last = --_remaining == 0;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (last) Finish();
        changed.TrySetResult();
    }

    private void Finish()
    {
        _finished = DateTime.UtcNow;
        var errors = _errors.Where(e => e is not null).Cast<Exception>().ToList();
        if (errors.Count == 0) Done.TrySetResult(_values);
        else if (TaskCount == 1) Done.TrySetException(errors[0]);
        else Done.TrySetException(new CompositeException(Method, errors));
    }

    // ---- for results enumerated as they arrive -------------------------------------------------------------------

    /// <summary>Completes when the next task finishes (already completed when all have).</summary>
    private protected Task NextChange()
    {
        lock (Gate) return _remaining == 0 ? Task.CompletedTask : _changed.Task;
    }

    /// <summary>Task <paramref name="index"/>'s outcome, when it has finished.</summary>
    private protected bool TryOutcome(int index, out object? value, out Exception? error)
    {
        lock (Gate)
        {
            (value, error) = (_values[index], _errors[index]);
            return _completed[index];
        }
    }

    /// <summary>The task that finished <paramref name="k"/>-th, or -1 while fewer have.</summary>
    private protected int Arrived(int k)
    {
        lock (Gate) return k < _arrival.Count ? _arrival[k] : -1;
    }

    /// <summary>Task indices in completion order (complete once the result is ready).</summary>
    private protected int[] ArrivalOrder()
    {
        lock (Gate) return _arrival.ToArray();
    }

    private protected bool IsCompleted(int index)
    {
        lock (Gate) return _completed[index];
    }

    private protected void ThrowIfNotReady(TimeSpan timeout)
    {
        if (!Wait(timeout))
            throw new TaskTimeoutException(
                $"{Method}: {Progress} of {ProgressTotal} finished within {timeout.TotalSeconds:0.###} s " +
                "(the tasks go on; wait again, or Abort() them)");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for every task; throws their failure(s).</summary>
    public void Get(TimeSpan timeout)
    {
        ThrowIfNotReady(timeout);
        Rethrow(Done.Task);
    }

    private protected static void Rethrow(Task task)
    {
        if (task.IsFaulted) ExceptionDispatchInfo.Capture(task.Exception!.InnerException!).Throw();
    }
}

/// <summary>An <see cref="AsyncResult"/> whose value is a <typeparamref name="T"/> (e.g. one value per engine, <c>double[]</c>).</summary>
public class AsyncResult<T> : AsyncResult
{
    private readonly Func<object?[], T>? _combine;
    private Task<T>? _value;

    internal AsyncResult(Client client, string method, IReadOnlyList<string> msgIds, IReadOnlyList<int>? targets,
        Func<object?[], T> combine) : base(client, method, msgIds, targets) => _combine = combine;

    /// <summary>For subclasses that combine in <see cref="Combine"/>.</summary>
    private protected AsyncResult(Client client, string method, IReadOnlyList<string> msgIds, IReadOnlyList<int>? targets)
        : base(client, method, msgIds, targets) { }

    /// <summary>The value from the tasks' values (in task order), once all succeeded.</summary>
    private protected virtual T Combine(object?[] values) => _combine!(values);

    private Task<T> Value
    {
        get
        {
            if (_value is { } v) return v;
            // made on first use, after construction: a result with no task is complete at once
            var made = Done.Task.ContinueWith(t =>
            {
                Rethrow(t);
                return Combine(t.Result);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return Interlocked.CompareExchange(ref _value, made, null) ?? made;
        }
    }

    public new TaskAwaiter<T> GetAwaiter() => Value.GetAwaiter();

    public new Task<T> AsTask() => Value;

    /// <summary>
    /// The value as a task that <paramref name="cancellationToken"/> cancels; cancelling also aborts the tasks that
    /// have not started.
    /// </summary>
    public Task<T> AsTask(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? WithCancellation(cancellationToken) : Value;

    private async Task<T> WithCancellation(CancellationToken cancellationToken)
    {
        try
        {
            return await Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AbortIfPending();
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/>; the value, or the failure(s) thrown.</summary>
    public new T Get(TimeSpan timeout)
    {
        ThrowIfNotReady(timeout);
        return Value.GetAwaiter().GetResult();
    }
}
