namespace PyMpiBridge.Parallel.Scheduling;

/// <summary>
/// What this client knows of its finished tasks, by msg_id: whether each succeeded and on which engine it ran. The
/// balancer decides dependencies from it (<c>after</c>: finished how; <c>follow</c>: ran where). Read and written under
/// the client's scheduling lock.
/// </summary>
internal sealed class TaskLedger
{
    private readonly Dictionary<string, (bool Ok, int? Engine)> _done = [];

    public void Record(string msgId, bool ok, int? engine) => _done[msgId] = (ok, engine);

    public bool TryGet(string msgId, out bool ok, out int? engine)
    {
        bool found = _done.TryGetValue(msgId, out var entry);
        (ok, engine) = entry;
        return found;
    }
}
