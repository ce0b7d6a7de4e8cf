using System.Runtime.CompilerServices;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Tasks submitted to one or more engines (ipyparallel's <c>AsyncResult</c>): awaitable, or <see cref="Wait"/>/<c>Get</c>
/// with a timeout; timing fields as ipyparallel's. One task per target engine, in target order.
/// </summary>
public class AsyncResult
{
    private readonly object _lock = new();
    private readonly object?[] _values;
    private readonly Exception?[] _errors;
    private readonly TaskMetadata?[] _metadata;
    private readonly bool[] _completed;
    private readonly DateTime _created = DateTime.UtcNow;
    private int _remaining;
    private DateTime? _finished;
    private protected readonly TaskCompletionSource<object?[]> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal AsyncResult(string method, IReadOnlyList<int> targets, IReadOnlyList<string> msgIds)
    {
        Method = method;
        Targets = targets;
        MsgIds = msgIds;
        _values = new object?[targets.Count];
        _errors = new Exception?[targets.Count];
        _metadata = new TaskMetadata?[targets.Count];
        _completed = new bool[targets.Count];
        _remaining = targets.Count;
        if (_remaining == 0) Finish();
    }

    /// <summary>What was asked: apply, execute, push, pull, scatter, gather.</summary>
    public string Method { get; }
    /// <summary>The engines, one per task.</summary>
    public IReadOnlyList<int> Targets { get; }
    /// <summary>The tasks' ids (<c>{session}_{seq}</c>), as the task database knows them.</summary>
    public IReadOnlyList<string> MsgIds { get; }

    /// <summary>The engine of a single-task result (ipyparallel's <c>ar.engine_id</c>).</summary>
    public int EngineId => Targets.Count == 1 ? Targets[0] :
        throw new InvalidOperationException($"this result has {Targets.Count} tasks: use Targets or Metadata");

    public bool Ready => Done.Task.IsCompleted;

    /// <summary>True when every task succeeded; throws while not <see cref="Ready"/> (as ipyparallel's <c>successful()</c>).</summary>
    public bool Successful => Ready ? Done.Task.IsCompletedSuccessfully
        : throw new InvalidOperationException("the tasks have not finished: Successful is only known when Ready");

    /// <summary>How many tasks have finished.</summary>
    public int Progress { get { lock (_lock) return Targets.Count - _remaining; } }

    /// <summary>Per task, once it finished (null before).</summary>
    public IReadOnlyList<TaskMetadata?> Metadata { get { lock (_lock) return (TaskMetadata?[])_metadata.Clone(); } }

    /// <summary>From submission until the last result arrived (or until now while running).</summary>
    public TimeSpan Elapsed => (_finished ?? DateTime.UtcNow) - _created;

    /// <summary>The sum of the tasks' run times on their engines.</summary>
    public TimeSpan SerialTime => Sum(m => m.Completed - m.Started);

    /// <summary>From the first submission to the last completion, as the engines measured them.</summary>
    public TimeSpan WallTime
    {
        get
        {
            var md = Metadata.Where(m => m?.Completed is not null).ToList();
            if (md.Count == 0) return TimeSpan.Zero;
            return md.Max(m => m!.Completed!.Value) - md.Min(m => m!.Submitted);
        }
    }

    private TimeSpan Sum(Func<TaskMetadata, TimeSpan?> f) =>
        Metadata.Aggregate(TimeSpan.Zero, (acc, m) => acc + (m is null ? TimeSpan.Zero : f(m) ?? TimeSpan.Zero));

    /// <summary>Waits up to <paramref name="timeout"/>; true when every task finished.</summary>
    public bool Wait(TimeSpan timeout)
    {
        try { return ((Task)Done.Task).Wait(timeout); }
        catch (AggregateException) { return true; }
    }

    /// <summary>Waits for every task; throws the failure(s).</summary>
    public TaskAwaiter GetAwaiter() => ((Task)Done.Task).GetAwaiter();

    /// <summary>The whole result as a task.</summary>
    public Task AsTask() => Done.Task;

    internal void Complete(int index, object? value, Exception? error, TaskMetadata? metadata)
    {
        lock (_lock)
        {
            if (_completed[index]) return;
            _completed[index] = true;
            _values[index] = value;
            _errors[index] = error;
            _metadata[index] = metadata;
            if (--_remaining > 0) return;
        }
        Finish();
    }

    private void Finish()
    {
        _finished = DateTime.UtcNow;
        var errors = _errors.Where(e => e is not null).Cast<Exception>().ToList();
        if (errors.Count == 0) Done.TrySetResult(_values);
        else if (Targets.Count == 1) Done.TrySetException(errors[0]);
        else Done.TrySetException(new CompositeException(Method, errors));
    }

    private protected void ThrowIfNotReady(TimeSpan timeout)
    {
        if (!Wait(timeout))
            throw new TaskTimeoutException(
                $"{Method} on engine(s) {string.Join(", ", Targets)}: {Progress} of {Targets.Count} tasks finished within {timeout.TotalSeconds:0.###} s");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for every task; throws their failure(s).</summary>
    public void Get(TimeSpan timeout)
    {
        ThrowIfNotReady(timeout);
        Rethrow(Done.Task);
    }

    private protected static void Rethrow(Task task)
    {
        if (task.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(task.Exception!.InnerException!).Throw();
    }
}

/// <summary>An <see cref="AsyncResult"/> whose value is a <typeparamref name="T"/> (e.g. one value per engine, <c>double[][]</c>).</summary>
public sealed class AsyncResult<T> : AsyncResult
{
    private readonly Task<T> _value;

    internal AsyncResult(string method, IReadOnlyList<int> targets, IReadOnlyList<string> msgIds, Func<object?[], T> combine)
        : base(method, targets, msgIds)
    {
        _value = Done.Task.ContinueWith(t =>
        {
            Rethrow(t);
            return combine(t.Result);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public new TaskAwaiter<T> GetAwaiter() => _value.GetAwaiter();

    public new Task<T> AsTask() => _value;

    /// <summary>Waits up to <paramref name="timeout"/>; the value, or the failure(s) thrown.</summary>
    public new T Get(TimeSpan timeout)
    {
        ThrowIfNotReady(timeout);
        return _value.GetAwaiter().GetResult();
    }
}
