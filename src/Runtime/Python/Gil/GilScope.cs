namespace PyMpiBridge.Python;

/// <summary>
/// Holding the GIL: <c>using var gil = Py.Gil();</c>. Reentrant, usable on any thread; must be disposed on the
/// thread that acquired it. Entering and leaving also releases references dropped by the finalizer.
/// </summary>
public ref struct GilScope : IDisposable
{
    internal enum Kind : byte { None, Nested, Outermost }

    private readonly int _ownerThread;
    private readonly int _state;
    private Kind _kind;

    internal GilScope(int ownerThread, int state, Kind kind)
    {
        _ownerThread = ownerThread;
        _state = state;
        _kind = kind;
    }

    /// <summary>Releases this level of the GIL (the GIL itself when this is the outermost scope).</summary>
    public void Dispose()
    {
        if (_kind == Kind.None) return;
        GilState.Release(_ownerThread, _state, _kind);
        _kind = Kind.None;
    }
}
