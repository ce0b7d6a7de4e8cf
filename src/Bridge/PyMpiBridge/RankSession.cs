using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Logging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;
using PyMpiBridge.Runtime.Native;
using PyMpiBridge.Sharing;

namespace PyMpiBridge;

/// <summary>
/// One rank of a mixed C#/Python MPI job: MPI initialized (or adopted), Python embedded and configured to share it,
/// logging tagged with the rank. Created by <see cref="PyMpi.Start"/>; one per process.
/// </summary>
public sealed class RankSession : IDisposable, IAsyncDisposable
{
    private static RankSession? s_current;
    private static readonly Lock Gate = new();

    private readonly bool _ownsLoggerFactory;
    private readonly bool _abortOnFailure;
    private readonly ParentExitWatch? _launcherWatch;
    private int _disposed;

    // The last exception thrown on each thread, so a Dispose running while one propagates can name it.
    [ThreadStatic] private static Exception? t_lastThrown;

    /// <summary>The session of this process, if one is running.</summary>
    public static RankSession? Current => Volatile.Read(ref s_current);

    /// <summary>MPI_COMM_WORLD, shared with Python as <c>pympibridge.world</c>.</summary>
    public Comm World { get; }

    /// <summary>This process's rank in <see cref="World"/>.</summary>
    public int Rank { get; }

    /// <summary>Number of ranks in <see cref="World"/>.</summary>
    public int Size { get; }

    /// <summary>The thread level MPI provides.</summary>
    public ThreadLevel ThreadLevel { get; }

    /// <summary>The embedded interpreter, or null in a C#-only rank.</summary>
    public PythonInterpreter? Python { get; }

    /// <summary>The program's arguments as given to <see cref="PyMpi.Start"/>.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Rank-tagged loggers.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The session's own logger (category <c>PyMpiBridge.Rank</c>).</summary>
    public ILogger Logger { get; }

    private RankSession(string[] args, RankSessionOptions options)
    {
        Arguments = args;
        // Before MPI_Init: a rank still starting when its launcher is killed must not go on to wait in MPI either
        // (after MPI_Init, Open MPI ends its ranks itself; MPICH's do not).
        if (options.EndWhenLauncherExits && LaunchEnvironment.Current.Kind != MpiLauncherKind.None)
            _launcherWatch = ParentExitWatch.Start(OnLauncherExit);
        try
        {
            ThreadLevel = MpiEnvironment.Init(options.ThreadLevel);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _launcherWatch?.Dispose();
            throw new InvalidOperationException($"MPI could not be started in this process: {e.Message}", e);
        }
        World = Comm.World;
        Rank = World.Rank;
        Size = World.Size;

        _ownsLoggerFactory = options.LoggerFactory is null;
        LoggerFactory = options.LoggerFactory ?? RankLogging.CreateFactory(Rank, options.LogLevel);
        Logger = LoggerFactory.CreateLogger("PyMpiBridge.Rank");
        Logger.LogInformation("MPI up: {Library} ({Implementation}, {Abi} ABI), started by {Launcher}, rank {Rank} of {Size}, thread level {Level}",
            MpiEnvironment.LibraryPath, MpiEnvironment.Implementation, MpiEnvironment.Abi, MpiEnvironment.Launch.Launcher, Rank, Size, ThreadLevel);
        if (ThreadLevel < ThreadLevel.Serialized)
            Logger.LogWarning("MPI provides only thread level {Level}: call MPI from one thread at a time", ThreadLevel);

        if (options.StartPython)
        {
            try
            {
                Python = PythonEngine.Initialize(new PythonOptions
                {
                    PythonExecutable = options.PythonExecutable,
                    PythonExecutableSource = options.PythonExecutableSource,
                    AdditionalPaths = [PythonPackage.Directory, .. options.PythonPaths],
                    Logger = LoggerFactory.CreateLogger("PyMpiBridge.Python"),
                    ShutdownOnProcessExit = false, // we shut down in order: Python, then MPI
                });
                PythonSide.Configure(this);
            }
            catch (Exception e) when (options.AbortOnUnhandledException && Size > 1 && e is not OutOfMemoryException)
            {
                // The other ranks may already wait in their first collective: end the job rather than leave them hanging.
                foreach (string line in $"Python could not be started: {e.Message}".Split('\n'))
                    Console.Error.WriteLine($"{RankConsoleFormatter.RankTag(Rank)} {line.TrimEnd('\r')}");
                Abort(1, "Python could not be started in this rank (above)");
                throw; // not reached: Abort ends the process
            }
        }
        _abortOnFailure = options.AbortOnUnhandledException;
        if (_abortOnFailure)
        {
            AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
            AppDomain.CurrentDomain.FirstChanceException += OnFirstChanceException;
        }
        MpiEnvironment.BeforeAbort = PythonSide.FlushStreams;
    }

    /// <summary>
    /// The launcher was killed: nothing will end this rank, and MPI (a collective, MPI_Finalize's fence) would wait for
    /// it forever. Says so where it still can, then ends the process without exit handlers (they would call MPI).
    /// </summary>
    private void OnLauncherExit(ParentExitWatch watch)
    {
        try
        {
            string who = World is null ? $"[pid {Environment.ProcessId}]" : RankConsoleFormatter.RankTag(Rank); // MPI may not be up yet
            Console.Error.WriteLine($"{who} this rank's launcher ({watch.ParentName}, pid {watch.ParentId}) " +
                "exited before it: ending this rank, which could only wait forever in MPI without it");
            Console.Error.Flush();
        }
        catch (IOException) { } // its output went through the launcher, which is gone
        ParentExitWatch.EndThisProcess(1);
    }

    private static void OnFirstChanceException(object? sender, FirstChanceExceptionEventArgs e) => t_lastThrown = e.Exception;

    internal static RankSession Start(string[] args, RankSessionOptions options)
    {
        lock (Gate)
        {
            if (s_current is not null)
                throw new InvalidOperationException(
                    "A rank session is already running in this process; use RankSession.Current (one per process).");
            if (MpiEnvironment.IsFinalized || PythonEngine.IsShutDown)
                throw new InvalidOperationException(
                    "MPI or Python was already shut down in this process; neither can be started again. Start one session per process.");
            var session = new RankSession(args, options);
            Volatile.Write(ref s_current, session);
            return session;
        }
    }

    /// <summary>
    /// Exports a C# function to Python as <c>pympibridge.csharp.&lt;name&gt;</c>. Parameters convert by type:
    /// <see cref="PyBuffer{T}"/> receives a numpy array without copying, <see cref="Comm"/> an mpi4py communicator
    /// (the same handle), numbers, strings and containers as usual.
    /// </summary>
    public void Export(string name, Delegate function, string? doc = null)
    {
        RequirePython();
        BridgeModule.Register(name, function, doc);
    }

    /// <summary>Exports every static method of <paramref name="type"/> marked [PythonExport]; returns how many.</summary>
    public int ExportAll(Type type)
    {
        RequirePython();
        return BridgeModule.RegisterAll(type);
    }

    private void RequirePython()
    {
        if (Python is null)
            throw new InvalidOperationException("this rank session was started without Python (StartPython = false); nothing can be exported.");
    }

    /// <summary>
    /// Ends the whole job now: writes <paramref name="reason"/> with the rank to stderr and calls MPI_Abort on
    /// <see cref="World"/>, so no other rank is left waiting. Does not return.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public void Abort(int errorCode, string reason) => MpiEnvironment.Abort(errorCode, reason);

    private void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        string text = e.ExceptionObject?.ToString() ?? "unknown exception";
        foreach (string line in text.Split('\n'))
            Console.Error.WriteLine($"{RankConsoleFormatter.RankTag(Rank)} {line.TrimEnd('\r')}");
        Abort(1, "unhandled .NET exception (above)");
    }

    /// <summary>
    /// Shuts down in order: Python (atexit handlers, stream flush), then MPI if this process initialized it.
    /// Disposed while an exception propagates (a <c>using</c> left by a throw, an <c>async Main</c> that failed) on a
    /// job of several ranks, it aborts the job with that exception instead: MPI_Finalize is collective, and the other
    /// ranks, waiting for this one in some collective, would never reach it.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_abortOnFailure && Size > 1 && Marshal.GetExceptionPointers() != 0
            && MpiEnvironment.IsInitialized && !MpiEnvironment.IsFinalized)
        {
            string what = t_lastThrown is { } e ? $"{e.GetType().FullName}: {e.Message}" : "an exception";
            if (t_lastThrown is { } shown)
                foreach (string line in shown.ToString().Split('\n'))
                    Console.Error.WriteLine($"{RankConsoleFormatter.RankTag(Rank)} {line.TrimEnd('\r')}");
            Abort(1, $"the rank session was disposed by an exception ({what}); the other ranks cannot finish without this one");
        }
        AppDomain.CurrentDomain.FirstChanceException -= OnFirstChanceException;
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
        try
        {
            if (Python is not null && !PythonEngine.IsShutDown)
            {
                PythonSide.BeforeShutdown();
                PythonEngine.Shutdown();
            }
        }
        finally
        {
            if (MpiEnvironment.IsInitialized && !MpiEnvironment.IsFinalized && MpiEnvironment.OwnsInitialization)
            {
                Logger.LogDebug("finalizing MPI");
                MpiEnvironment.Finalize();
            }
            MpiEnvironment.BeforeAbort = null;
            _launcherWatch?.Dispose(); // only now: a launcher killed while MPI_Finalize waits must still end this rank
            if (_ownsLoggerFactory) LoggerFactory.Dispose();
            lock (Gate) Volatile.Write(ref s_current, null);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"RankSession(rank {Rank} of {Size}, {MpiEnvironment.Abi}, Python {Python?.Version ?? "off"})";
}
