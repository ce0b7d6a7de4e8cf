using PyMpiBridge.Mpi;
using PyMpiBridge.Python;
using PN = Python.Runtime;

namespace PyMpiBridge.Pythonnet;

/// <summary>
/// A rank session and pythonnet on one interpreter, whichever started Python:
/// <code>
/// using var rank = PythonnetInterop.Start(args);   // after PythonEngine.Initialize() of pythonnet, or before it
/// using (Py.GIL()) { dynamic np = Py.Import("numpy"); ... }           // pythonnet, as before
/// rank.World.Allreduce(local, global, Op.Sum);                     // our Comm: the MPI_COMM_WORLD mpi4py sees
/// </code>
/// Disposing the session ends everything in order: Python's exit work (non-daemon threads, atexit, stream flush),
/// pythonnet, the interpreter if we started it, then MPI.
/// </summary>
public static class PythonnetInterop
{
    private const string Name = "pythonnet";
    private static readonly Lock Gate = new();
    private static bool s_attached;

    /// <summary>
    /// Starts a rank session sharing Python with pythonnet. When pythonnet already initialized Python, the session adopts
    /// that interpreter (no second initialization) and, if mpi4py initialized MPI there first, takes over MPI's
    /// finalization (pythonnet never finalizes Python, so mpi4py never would). Otherwise the session starts MPI and
    /// Python and pythonnet is initialized on that interpreter (<see cref="Attach"/>).
    /// </summary>
    /// <remarks>
    /// With pythonnet started first, its initializing thread holds the GIL until <c>PythonEngine.BeginAllowThreads()</c>
    /// or shutdown: start and dispose the session on that thread (or after <c>BeginAllowThreads</c>).
    /// </remarks>
    public static RankSession Start(string[]? args = null, RankSessionOptions? options = null)
    {
        lock (Gate)
        {
            bool pythonnetFirst = PN.PythonEngine.IsInitialized;
            var session = PyMpi.Start(args, options ?? new RankSessionOptions());
            try
            {
                if (session.Python is null)
                    throw new InvalidOperationException("RankSessionOptions.StartPython is false: there is no Python for pythonnet to share.");
                if (pythonnetFirst)
                {
                    if (!MpiEnvironment.OwnsInitialization) MpiEnvironment.TakeOverFinalization();
                    PythonEngine.AddCoEmbedding(Name, ShutDownPythonnet, startedPython: true);
                    PyMpiBridgeCodec.Register();
                    s_attached = true;
                }
                else AttachLocked();
                return session;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Starts pythonnet on the interpreter PyMpiBridge runs (started by <see cref="PyMpi.Start"/> or
    /// <see cref="PythonEngine.Initialize"/>, which this calls if needed): <c>Runtime.PythonDLL</c> is set to the library we
    /// loaded, pythonnet finds Python initialized and adopts it, and the GIL is released again when this returns, as after
    /// our own start. pythonnet is shut down by <see cref="PythonEngine.Shutdown"/> (so by disposing the session) before
    /// the interpreter ends. Idempotent.
    /// </summary>
    public static void Attach()
    {
        lock (Gate) AttachLocked();
    }

    private static void AttachLocked()
    {
        if (s_attached) return;
        var interpreter = PythonEngine.Initialize();
        if (!PN.PythonEngine.IsInitialized) // else pythonnet was initialized on our interpreter by hand: only register it
        {
            if (!interpreter.Adopted) PN.Runtime.PythonDLL = interpreter.LibraryPath;
            // pythonnet takes the GIL with PyGILState_Ensure and keeps it; inside our scope that nests, and leaving the scope
            // releases the GIL, so every thread (this one too) takes it again through either API.
            using (Py.Gil()) PN.PythonEngine.Initialize(setSysArgv: false);
        }
        PythonEngine.AddCoEmbedding(Name, ShutDownPythonnet, startedPython: false);
        PyMpiBridgeCodec.Register();
        s_attached = true;
    }

    private static void ShutDownPythonnet()
    {
        ObjectCrossing.ReleaseSlots();
        // pythonnet's Shutdown takes the GIL on this thread and releases it for good (also a GIL its Initialize kept).
        PN.PythonEngine.Shutdown();
    }
}
