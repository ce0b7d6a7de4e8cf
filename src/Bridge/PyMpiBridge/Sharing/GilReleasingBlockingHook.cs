using PyMpiBridge.Mpi.Interop;
using PyMpiBridge.Python;

namespace PyMpiBridge.Sharing;

/// <summary>
/// Releases the GIL around every blocking MPI call made by a thread that holds it, and takes it back after:
/// what <c>Py_BEGIN_ALLOW_THREADS</c> does in mpi4py. Without it, a C# function called from Python that waits in
/// <c>MPI_Recv</c> would stop every other Python thread of the rank (and deadlock one that must send first).
/// A thread without the GIL pays one thread-local read (and a <c>PyGILState_Check</c> once another embedding such as
/// pythonnet shares the interpreter, since its threads hold the GIL without our scopes). It lives in the bridge because it is where the two meet:
/// the MPI binding and the CPython embedding know nothing of each other.
/// </summary>
internal sealed class GilReleasingBlockingHook : IBlockingCallHook
{
    public static readonly GilReleasingBlockingHook Instance = new();

    /// <summary>The GIL depth this thread had when it entered the blocking call (restored on exit).</summary>
    [ThreadStatic] private static int t_savedDepth;

    /// <summary>Routes every blocking MPI call through this hook (idempotent).</summary>
    public static void Install() => BlockingRegion.Hook = Instance;

    /// <summary>Stops releasing the GIL around MPI calls (used before Python shuts down).</summary>
    public static void Uninstall()
    {
        if (ReferenceEquals(BlockingRegion.Hook, Instance)) BlockingRegion.Hook = null;
    }

    public nint Enter()
    {
        int depth = GilState.Depth;
        if (!PythonEngine.IsRunning) return 0;
        if (depth <= 0 && !GilState.HeldOutsideOurScopes) return 0; // a GIL taken through pythonnet is released all the same
        t_savedDepth = depth;
        return GilState.SaveThread();
    }

    public void Exit(nint token)
    {
        if (token == 0) return;
        GilState.RestoreThread(token, t_savedDepth);
    }
}
