using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// The one CPython interpreter of this process: initialized once (idempotent, thread-safe), never re-initialized
/// after <see cref="Shutdown"/> (numpy and most C extensions crash on a second initialization).
/// </summary>
public static unsafe partial class PythonEngine
{
    private const int NotInitialized = 0, Running = 1, ShuttingDown = 2, ShutDown = 3;
    private static int _state;
    private static readonly Lock Gate = new();
    private static ILogger? _logger;
    private static Thread? _initializingThread; // Python's main thread (compared by identity: managed ids are reused)

    /// <summary>The embedded interpreter: which one, why it was chosen, where its parts are. Null before initialization.</summary>
    public static PythonInterpreter? Interpreter { get; private set; }

    /// <summary>True between a successful <see cref="Initialize"/> and <see cref="Shutdown"/>.</summary>
    public static bool IsInitialized => Volatile.Read(ref _state) == Running;

    /// <summary>True once <see cref="Shutdown"/> started: Python can no longer be used in this process.</summary>
    public static bool IsShutDown => Volatile.Read(ref _state) >= ShuttingDown;

    internal static bool IsRunning => Volatile.Read(ref _state) == Running;

    /// <summary>
    /// Chooses, loads and starts the interpreter (see <see cref="PythonDiscovery"/>), or adopts the one already
    /// running in this process. Returns with the GIL released. Later calls return the same interpreter.
    /// </summary>
    /// <exception cref="PythonNotFoundException">No usable interpreter; the message lists what was tried.</exception>
    /// <exception cref="InvalidOperationException">Called after <see cref="Shutdown"/>.</exception>
    public static PythonInterpreter Initialize(PythonOptions? options = null)
    {
        lock (Gate)
        {
            ThrowIfShutDown();
            if (_state == Running) return Interpreter!;
            options ??= new PythonOptions();
            _logger = options.Logger;

            PythonInterpreter interpreter;
            bool adopted = PythonLibrary.TryAdoptProcess();
            if (adopted)
            {
                LoadApi();
                interpreter = AdoptedInterpreter();
            }
            else
            {
                interpreter = PythonDiscovery.Locate(options);
                PythonLibrary.Load(interpreter.LibraryPath);
                LoadApi();
                adopted = CPython.Py_IsInitialized() != 0; // someone loaded this very library privately and started it
                if (adopted) interpreter = interpreter with { Adopted = true, Reason = interpreter.Reason + "; already initialized in this process, adopted" };
                else
                {
                    StartInterpreter(interpreter);
                    _initializingThread = Thread.CurrentThread; // Python's main thread
                }
            }

            // Set-up that needs the GIL: path fix-ups, our builtin module, the buffer exporter type.
            GilScope gil = default;
            if (adopted) { Volatile.Write(ref _state, Running); gil = GilState.Acquire(); }
            else GilState.Depth = 1; // the initializing thread holds the GIL after Py_InitializeEx
            try
            {
                FixUpSys(interpreter, options, adopted);
                BridgeModule.Create();
                ArrayExporter.CreateType();
            }
            finally
            {
                if (adopted) gil.Dispose();
                else
                {
                    GilState.Depth = 0;
                    CPython.PyEval_SaveThread(); // every later use goes through Py.Gil(), from any thread
                }
            }

            Interpreter = interpreter;
            Volatile.Write(ref _state, Running);
            if (!adopted && options.ShutdownOnProcessExit)
                AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
            _logger?.LogInformation("Python {Version} embedded: {Executable} ({Source}: {Reason}); library {Library}",
                interpreter.Version, interpreter.Executable, interpreter.Source, interpreter.Reason, interpreter.LibraryPath);
            return interpreter;
        }
    }

    /// <summary>Takes the GIL for this thread; same as <see cref="Py.Gil"/>.</summary>
    public static GilScope AcquireGil() => GilState.Acquire();

    /// <summary>
    /// Ends Python for this process, once: waits (up to 10 s) for other threads to leave their GIL scopes, then — on the
    /// thread that initialized Python — finalizes it (<c>Py_FinalizeEx</c>: non-daemon threads joined, atexit handlers
    /// run, streams flushed). From any other thread (e.g. at process exit, which .NET runs on its finalizer thread) it does
    /// the same user-visible work without tearing the interpreter down, because <c>Py_FinalizeEx</c> off Python's main
    /// thread hangs. Afterwards every use of Python throws <see cref="InvalidOperationException"/>; it is never
    /// re-initialized. An interpreter we adopted is not torn down: only the embeddings declared with
    /// <see cref="AddCoEmbedding"/> are shut down (after the exit work, when one of them started it). Call it outside any GIL scope.
    /// </summary>
    public static void Shutdown()
    {
        if (GilState.IsHeld)
            throw new InvalidOperationException("PythonEngine.Shutdown() was called inside a GIL scope; dispose the scope first.");
        lock (Gate)
        {
            if (_state >= ShuttingDown) return;
            bool wasRunning = _state == Running;
            Volatile.Write(ref _state, ShuttingDown);
            if (!wasRunning) { Volatile.Write(ref _state, ShutDown); return; }
            if (Interpreter!.Adopted && !s_endsAdoptedInterpreter)
            {
                ShutDownCoEmbeddings();
                Volatile.Write(ref _state, ShutDown);
                return;
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (GilState.OpenScopes > 0 && DateTime.UtcNow < deadline) Thread.Sleep(1);
            if (GilState.OpenScopes > 0)
            {
                _logger?.LogWarning("Python not finalized: {Count} thread(s) still hold the GIL after 10 s", GilState.OpenScopes);
                Volatile.Write(ref _state, ShutDown);
                return;
            }
            int gilState = CPython.PyGILState_Ensure();
            PendingReleases.Drain();
            if (HasCoEmbeddings || Interpreter.Adopted)
            {
                // The exit work first, while every embedding still works (an atexit handler may call into any of them);
                // then the other embeddings end, each taking the GIL itself; then the interpreter, if it is ours to end.
                RunExitWork();
                CPython.PyGILState_Release(gilState);
                ShutDownCoEmbeddings();
                if (Interpreter.Adopted)
                {
                    _logger?.LogDebug("Python exit handlers ran; the adopted interpreter is left to the operating system");
                    Volatile.Write(ref _state, ShutDown);
                    return;
                }
                gilState = CPython.PyGILState_Ensure();
            }
            if (Thread.CurrentThread == _initializingThread)
            {
                int status = CPython.Py_FinalizeEx();
                if (status != 0) _logger?.LogWarning("Py_FinalizeEx reported an error while flushing buffered data ({Status})", status);
                _logger?.LogDebug("Python finalized");
            }
            else
            {
                // Py_FinalizeEx off Python's main thread waits forever for that thread's state lock (threading._shutdown,
                // bpo-1596321) — and at process exit we run on the .NET finalizer thread. Do what an interpreter exit
                // means to the user instead (join non-daemon threads, run atexit handlers, flush streams) and leave the
                // teardown to the operating system: no module teardown under .NET threads, no crash, no hang.
                RunExitWork();
                CPython.PyGILState_Release(gilState);
                _logger?.LogDebug("Python exit handlers ran; interpreter left to the operating system");
            }
            Volatile.Write(ref _state, ShutDown);
        }
    }

    /// <summary>Fast check on every GIL acquisition: running, or initialize on first use, or throw after shutdown.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void EnsureRunning()
    {
        if (Volatile.Read(ref _state) != Running) Slow();

        static void Slow()
        {
            ThrowIfShutDown();
            if (Thread.CurrentThread.IsThreadPoolThread) InitializeOffThePool();
            else Initialize();
        }
    }

    /// <summary>
    /// First use of Python on a thread-pool thread: initialize on a thread of our own instead, so no pool thread (which
    /// runs any work, at any time) becomes Python's main thread, the one <c>threading.main_thread()</c>, signal handlers
    /// and <c>Py_FinalizeEx</c> belong to. That thread ends after start-up; Shutdown then does the soft exit.
    /// </summary>
    private static void InitializeOffThePool()
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try { Initialize(); }
            catch (Exception e) { error = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); }
        }) { Name = "Python start-up", IsBackground = true };
        thread.Start();
        thread.Join();
        error?.Throw();
    }

    internal static void ThrowIfShutDown()
    {
        if (Volatile.Read(ref _state) >= ShuttingDown)
            throw new InvalidOperationException(
                "Python has been shut down in this process (PythonEngine.Shutdown) and cannot be used or re-initialized.");
    }

    private static void LoadApi()
    {
        try { RuntimeHelpers.RunClassConstructor(typeof(CPython).TypeHandle); }
        catch (TypeInitializationException e) when (e.InnerException is not null) { throw e.InnerException; }
    }

    private static unsafe void StartInterpreter(PythonInterpreter interpreter)
    {
        // PYTHONHOME makes libpython find the standard library of the interpreter we probed, wherever its
        // compiled-in prefix points; it is restored right after so child processes are not affected.
        string? previousHome = NativeEnvironment.Get("PYTHONHOME");
        string home = interpreter.BasePrefix == interpreter.BaseExecPrefix
            ? interpreter.BasePrefix : $"{interpreter.BasePrefix}:{interpreter.BaseExecPrefix}";
        NativeEnvironment.Set("PYTHONHOME", home);
        try { CPython.Py_InitializeEx(0); } // 0: leave signal handlers to .NET and MPI
        finally { NativeEnvironment.Set("PYTHONHOME", previousHome); }
        if (CPython.Py_IsInitialized() == 0)
            throw new InvalidOperationException($"Py_InitializeEx failed for {interpreter.LibraryPath} with PYTHONHOME={home}.");
    }

    private static unsafe PythonInterpreter AdoptedInterpreter()
    {
        int state = CPython.PyGILState_Ensure();
        try
        {
            using var scope = new NestedDepth();
            using var sys = Py.Import("sys");
            string Get(string name) => sys.GetAttr(name).As<string>();
            return new PythonInterpreter
            {
                Executable = Get("executable"), Source = "adopted", Adopted = true,
                Reason = "Python was already initialized in this process",
                Version = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(CPython.Py_GetVersion())!.Split(' ')[0],
                LibraryPath = PythonLibrary.Name, Prefix = Get("prefix"), ExecPrefix = Get("exec_prefix"),
                BasePrefix = Get("base_prefix"), BaseExecPrefix = Get("base_exec_prefix"),
                SysPath = sys.GetAttr("path").As<List<string>>(),
            };
        }
        finally { CPython.PyGILState_Release(state); }
    }

    /// <summary>Marks the GIL as held by this thread for a block where we hold it without a scope.</summary>
    private readonly ref struct NestedDepth
    {
        private readonly int _saved;
        public NestedDepth() { _saved = GilState.Depth; GilState.Depth = _saved + 1; }
        public void Dispose() => GilState.Depth = _saved;
    }

    private static void FixUpSys(PythonInterpreter interpreter, PythonOptions options, bool adopted)
    {
        // Handed over as Python objects rather than JSON: the reflection-based serializer cost every rank ~10 ms of JIT.
        using var globals = Py.NewGlobals();
        void Set(string name, object value) { using var o = PyObject.From(value); globals[name] = o; }
        Set("ADOPTED", adopted);
        Set("EXECUTABLE", interpreter.Executable);
        Set("PREFIX", interpreter.Prefix);
        Set("EXEC_PREFIX", interpreter.ExecPrefix);
        Set("PATH", interpreter.SysPath.ToList());
        Set("EXTRA", options.AdditionalPaths.ToList());
        Py.Exec(SysFixUp, globals);
    }

    /// <summary>Runs <see cref="SoftShutdown"/> (at most once) on a thread holding the GIL outside our scopes.</summary>
    private static void RunExitWork()
    {
        if (s_exitWorkDone) return;
        s_exitWorkDone = true;
        GilState.Depth = 1;
        try { Py.Exec(SoftShutdown); }
        catch (Exception e) { _logger?.LogWarning(e, "Python exit handlers failed"); }
        finally { GilState.Depth = 0; }
    }

    private static bool s_exitWorkDone;

    /// <summary>What interpreter exit does for the user, without tearing the interpreter down.</summary>
    private const string SoftShutdown = """
        import sys
        threading = sys.modules.get('threading')
        if threading is not None:
            me, main = threading.current_thread(), threading.main_thread()
            for t in threading.enumerate():
                if t is not me and t is not main and not t.daemon:
                    t.join()
        try:
            import atexit
            atexit._run_exitfuncs()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
        """;

    /// <summary>
    /// Makes the embedded interpreter look like the probed one: sys.executable (so subprocess/multiprocessing start
    /// the same interpreter), the venv prefixes, and its sys.path — site.addsitedir for site directories we lack,
    /// so their .pth files are processed too.
    /// </summary>
    private const string SysFixUp = """
        import sys, site
        if not ADOPTED:
            sys.executable = EXECUTABLE
            sys.prefix, sys.exec_prefix = PREFIX, EXEC_PREFIX
            for p in PATH:
                if p not in sys.path and p.rstrip('/').endswith(('site-packages', 'dist-packages')):
                    site.addsitedir(p)
            wanted = list(dict.fromkeys(EXTRA + PATH))
        else:
            wanted = list(dict.fromkeys(EXTRA))
        sys.path[:] = wanted + [p for p in sys.path if p not in wanted]
        if not ADOPTED:
            # threading.main_thread() is whichever thread imports threading first: make it the thread that started
            # Python, not whatever thread first runs Python code later.
            import threading
        """;
}
