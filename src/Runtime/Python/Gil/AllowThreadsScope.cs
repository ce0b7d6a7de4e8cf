namespace PyMpiBridge.Python;

/// <summary>
/// The GIL released for a stretch of C# work (<c>Py_BEGIN_ALLOW_THREADS</c>): Python threads and other .NET
/// threads can run Python meanwhile. Python objects must not be touched until it is disposed.
/// </summary>
public ref struct AllowThreadsScope : IDisposable
{
    private readonly nint _threadState;
    private readonly int _savedDepth;
    private readonly int _ownerThread;
    private bool _active;

    internal AllowThreadsScope(bool requireGil)
    {
        _ownerThread = Environment.CurrentManagedThreadId;
        _savedDepth = GilState.Depth;
        if (_savedDepth <= 0)
        {
            if (requireGil)
                throw new InvalidOperationException("Py.AllowThreads() needs the GIL to release; this thread does not hold it.");
            _threadState = 0;
            _active = false;
            return;
        }
        if (PendingReleases.Any) PendingReleases.Drain();
        _threadState = GilState.SaveThread();
        _active = true;
    }

    /// <summary>True when the GIL was actually released (false for a no-op scope).</summary>
    public readonly bool ReleasedGil => _active;

    /// <summary>Takes the GIL back.</summary>
    public void Dispose()
    {
        if (!_active) return;
        if (Environment.CurrentManagedThreadId != _ownerThread)
            throw new InvalidOperationException("Py.AllowThreads() scope disposed on another thread than the one that released the GIL.");
        GilState.RestoreThread(_threadState, _savedDepth);
        _active = false;
    }
}
