namespace PyMpiBridge.Parallel;

/// <summary>
/// A result made of items (ipyparallel's <c>AsyncMapResult</c>): the items of a map, each task computing a chunk of
/// them, or one value per engine of a direct apply/pull. Awaiting it gives every item in input order (completion order
/// when the map was not <c>Ordered</c>); <c>await foreach</c> yields the items as their tasks finish, a failed task's
/// exception thrown when its items are reached. <see cref="AsyncResult.Progress"/> counts items.
/// </summary>
public sealed class AsyncMapResult<T> : AsyncResult<T[]>, IAsyncEnumerable<T>
{
    private readonly int[] _chunkSizes;
    private readonly Func<int, object?, IReadOnlyList<T>> _itemsOf;

    /// <param name="chunkSizes">Items per task.</param>
    /// <param name="itemsOf">A task's value as its items (task index, value), converted to <typeparamref name="T"/>.</param>
    internal AsyncMapResult(Client client, string method, IReadOnlyList<string> msgIds, IReadOnlyList<int>? targets,
        int[] chunkSizes, bool ordered, Func<int, object?, IReadOnlyList<T>> itemsOf)
        : base(client, method, msgIds, targets)
    {
        _chunkSizes = chunkSizes;
        _itemsOf = itemsOf;
        Ordered = ordered;
    }

    /// <summary>Whether items come in input order (else in the order their tasks finished).</summary>
    public bool Ordered { get; }

    /// <summary>How many items in all.</summary>
    public int Count => _chunkSizes.Sum();

    public override int Progress
    {
        get
        {
            int done = 0;
            for (int i = 0; i < _chunkSizes.Length; i++)
                if (IsCompleted(i)) done += _chunkSizes[i];
            return done;
        }
    }

    private protected override int ProgressTotal => Count;

    private protected override T[] Combine(object?[] values)
    {
        var items = new List<T>(Count);
        foreach (int i in Ordered ? Enumerable.Range(0, values.Length) : ArrivalOrder()) items.AddRange(_itemsOf(i, values[i]));
        return items.ToArray();
    }

    /// <summary>
    /// The items as their tasks finish. Cancelling <paramref name="cancellationToken"/> aborts the tasks that have not
    /// started and ends the enumeration with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        for (int k = 0; k < TaskCount; k++)
        {
            int index;
            while (true)
            {
                // wait for the change before looking, so a task finishing in between is never missed
                var change = NextChange();
                index = Ordered ? (IsCompleted(k) ? k : -1) : Arrived(k);
                if (index >= 0) break;
                try
                {
                    await change.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    AbortIfPending();
                    throw;
                }
            }
            TryOutcome(index, out object? value, out Exception? error);
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            foreach (T item in _itemsOf(index, value)) yield return item;
        }
    }
}
