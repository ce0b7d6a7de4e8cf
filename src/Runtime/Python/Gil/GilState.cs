using System.Runtime.CompilerServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// Which threads hold the GIL through us: a thread-static depth, so checking "do I hold the GIL?" before
/// every object operation costs one thread-local read, and nested scopes cost nothing.
/// </summary>
internal static unsafe class GilState
{
    /// <summary>&gt; 0 while this thread holds the GIL (nested scopes count up); 0 inside AllowThreads.</summary>
    [ThreadStatic] private static int t_depth;

    /// <summary>Threads between PyGILState_Ensure and PyGILState_Release (Shutdown waits for them).</summary>
    private static int _outermostScopes;

    public static bool IsHeld => t_depth > 0;

    /// <summary>Set once another embedding shares the interpreter (<see cref="PythonEngine.AddCoEmbedding"/>): its threads may hold the GIL without our scopes.</summary>
    public static bool ForeignHoldersPossible { get; set; }

    /// <summary>True when this thread holds the GIL through another embedding (pythonnet's <c>Py.GIL()</c>), not through our scopes.</summary>
    public static bool HeldOutsideOurScopes => t_depth <= 0 && ForeignHoldersPossible && CPython.PyGILState_Check() != 0;
    public static int Depth { get => t_depth; set => t_depth = value; }
    public static int OpenScopes => Volatile.Read(ref _outermostScopes);

    /// <summary>
    /// Releases the GIL this thread holds, whatever its depth (<c>Py_BEGIN_ALLOW_THREADS</c>); the returned thread state
    /// and the depth to restore go to <see cref="RestoreThread"/>, on this same thread.
    /// </summary>
    public static nint SaveThread()
    {
        t_depth = 0;
        return CPython.PyEval_SaveThread();
    }

    /// <summary>Takes the GIL back after <see cref="SaveThread"/> and restores this thread's depth (<c>Py_END_ALLOW_THREADS</c>).</summary>
    public static void RestoreThread(nint threadState, int depth)
    {
        CPython.PyEval_RestoreThread(threadState);
        t_depth = depth;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfNotHeld()
    {
        if (t_depth <= 0) ThrowNotHeld();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotHeld()
    {
        PythonEngine.ThrowIfShutDown();
        throw new InvalidOperationException(
            "This thread does not hold the Python GIL. Wrap Python work in `using var gil = Py.Gil();` " +
            "(inside Py.AllowThreads() the GIL is released on purpose).");
    }

    /// <summary>Takes the GIL (or nests in the scope this thread already has).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GilScope Acquire()
    {
        PythonEngine.EnsureRunning();
        int depth = t_depth;
        if (depth > 0)
        {
            t_depth = depth + 1;
            return new GilScope(Environment.CurrentManagedThreadId, 0, GilScope.Kind.Nested);
        }
        return AcquireOutermost();
    }

    private static unsafe GilScope AcquireOutermost()
    {
        Interlocked.Increment(ref _outermostScopes);
        if (!PythonEngine.IsRunning)
        {
            // Shutdown started between our check and the increment: back out instead of touching a dying interpreter.
            Interlocked.Decrement(ref _outermostScopes);
            PythonEngine.ThrowIfShutDown();
        }
        int state = CPython.PyGILState_Ensure();
        t_depth = 1;
        if (PendingReleases.Any) PendingReleases.Drain();
        return new GilScope(Environment.CurrentManagedThreadId, state, GilScope.Kind.Outermost);
    }

    public static unsafe void Release(int ownerThread, int state, GilScope.Kind kind)
    {
        int current = Environment.CurrentManagedThreadId;
        if (ownerThread != current)
            throw new InvalidOperationException(
                $"A GIL scope acquired on managed thread {ownerThread} was disposed on thread {current}. " +
                "Release the GIL on the thread that took it; never hold a GIL scope across `await`.");
        int depth = t_depth;
        if (depth <= 0)
            throw new InvalidOperationException(
                "GIL scope disposed while this thread does not hold the GIL (disposed twice, or inside Py.AllowThreads()).");
        if (kind == GilScope.Kind.Nested)
        {
            t_depth = depth - 1;
            return;
        }
        if (depth != 1)
            throw new InvalidOperationException(
                $"The outermost GIL scope was disposed while {depth - 1} inner scope(s) are still open; dispose scopes in reverse order.");
        if (PendingReleases.Any) PendingReleases.Drain();
        t_depth = 0;
        CPython.PyGILState_Release(state);
        Interlocked.Decrement(ref _outermostScopes);
    }
}
