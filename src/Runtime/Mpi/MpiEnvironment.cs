using System.Text;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// Process-wide MPI state: loading the library, Init/Finalize, timers, version information.
/// Init is idempotent; when MPI was already initialized by someone else (e.g. mpi4py) we adopt it and
/// leave finalizing to them. Started without mpiexec, the process is a 1-rank world (singleton).
/// </summary>
public static unsafe class MpiEnvironment
{
    /// <summary>MPI_UNDEFINED (the same value in both ABIs): Split color for "no new communicator", Group.Rank for non-members.</summary>
    public const int Undefined = -32766;

    private static readonly Lock s_lock = new();
    private static volatile bool s_initialized;
    // Read on every communicator operation; plain static field on purpose (one load on the hot path).
    internal static bool s_finalized;
    private static bool s_ownsInitialization;
    private static ThreadLevel s_provided;
    private static Comm? s_world, s_self;

    /// <summary>
    /// Initializes MPI (<c>MPI_Init_thread</c>) asking for <paramref name="required"/>, or adopts an MPI that is
    /// already initialized. Sets MPI_ERRORS_RETURN on World and Self. Returns the thread level provided.
    /// </summary>
    /// <exception cref="DllNotFoundException">No MPI library could be loaded (the message says what was tried and what to install).</exception>
    /// <exception cref="InvalidOperationException">MPI was finalized earlier in this process.</exception>
    public static ThreadLevel Init(ThreadLevel required = ThreadLevel.Multiple)
    {
        lock (s_lock)
        {
            if (s_initialized) return s_provided;
            if (s_finalized) throw FinalizedError();
            var abi = MpiLibrary.Load();

            int flag = 0;
            MpiError.Check(MpiNative.Finalized(&flag), "MPI_Finalized");
            if (flag != 0) throw FinalizedError();
            MpiError.Check(MpiNative.Initialized(&flag), "MPI_Initialized");
            int provided = 0;
            if (flag != 0)
            {
                MpiError.Check(MpiNative.Query_thread(&provided), "MPI_Query_thread");
                s_ownsInitialization = false;
            }
            else
            {
                int rc = MpiNative.Init_thread(null, null, (int)required, &provided);
                if (rc != 0) throw new InvalidOperationException($"MPI_Init_thread failed with code {rc} ({MpiLibrary.LibraryPath}). Check the launcher matches the library (mpiexec for Open MPI, mpiexec.mpich for MPICH).");
                s_ownsInitialization = true;
            }
            s_provided = (ThreadLevel)provided;
            s_world = Comm.CreatePredefined(abi.CommWorld, "World");
            s_self = Comm.CreatePredefined(abi.CommSelf, "Self");
            s_initialized = true;
            return s_provided;
        }
    }

    /// <summary>True between a successful <see cref="Init"/> (or adoption) and <see cref="Finalize"/>.</summary>
    public static bool IsInitialized => s_initialized;

    /// <summary>True after <see cref="Finalize"/>; MPI cannot be initialized again in this process.</summary>
    public static bool IsFinalized => s_finalized;

    /// <summary>True when <see cref="Init"/> called MPI_Init_thread (so <see cref="Finalize"/> will finalize).</summary>
    public static bool OwnsInitialization => s_ownsInitialization;

    /// <summary>
    /// Makes <see cref="Finalize"/> end an MPI that another component initialized and will never finalize — mpi4py
    /// inside an interpreter that is never finalized (pythonnet never calls <c>Py_Finalize</c>, so mpi4py's exit hook
    /// never runs and the launcher reports an improper exit). <see cref="Finalize"/> still skips MPI_Finalize when MPI was
    /// finalized by then.
    /// </summary>
    public static void TakeOverFinalization()
    {
        lock (s_lock)
        {
            RequireInitialized();
            s_ownsInitialization = true;
        }
    }

    /// <summary>The thread support level MPI provided.</summary>
    public static ThreadLevel ProvidedThreadLevel
    {
        get
        {
            RequireInitialized();
            return s_provided;
        }
    }

    /// <summary>
    /// Finalizes MPI if we initialized it (an adopted MPI is left to its owner). Stops the request poller,
    /// then every communicator becomes unusable. Collective over World. Safe to call twice.
    /// </summary>
#pragma warning disable CS0465 // the MPI name; a static class has no destructor to confuse it with
    public static void Finalize()
#pragma warning restore CS0465
    {
        lock (s_lock)
        {
            if (!s_initialized) return;
            RequestPoller.Shutdown();
            s_initialized = false;
            s_finalized = true;
            int done = 0;
            if (s_ownsInitialization && MpiNative.Finalized(&done) == 0 && done == 0)
            {
                var region = BlockingRegion.Enter();
                int rc = MpiNative.Finalize();
                region.Exit();
                MpiError.Check(rc, "MPI_Finalize");
            }
        }
    }

    /// <summary>Terminates every process of the job with <paramref name="errorCode"/> (<c>MPI_Abort</c> on World). Does not return.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Abort(int errorCode = 1)
    {
        if (s_initialized && !s_finalized)
        {
            Console.Out.Flush();
            Console.Error.Flush();
            MpiNative.Abort(MpiLibrary.Abi.CommWorld, errorCode);
        }
        // MPI_Abort should not return; if it does (or MPI is not running) end this process anyway.
        Environment.Exit(errorCode);
    }

    /// <summary>
    /// Runs just before <see cref="Abort(int, string)"/> ends the job, e.g. to flush another runtime's output streams.
    /// Set by the layer that owns them (the rank session); must not throw or block on other ranks.
    /// </summary>
    public static Action? BeforeAbort { get; set; }

    /// <summary>
    /// Ends the whole job because this rank cannot go on: writes <c>[rank R] aborting the job (exit code C): reason</c>
    /// to stderr, then <see cref="Abort(int)"/>. Used wherever a failure seen by one rank would otherwise leave the
    /// other ranks waiting forever in a collective or in MPI_Finalize. Does not return.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Abort(int errorCode, string reason)
    {
        try { BeforeAbort?.Invoke(); }
        catch (Exception) { /* the abort matters more than the flush */ }
        Console.Out.Flush();
        string rank = s_initialized && !s_finalized && s_world is { } world ? world.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
        foreach (string line in $"aborting the job (exit code {errorCode}): {reason}".Split('\n'))
            Console.Error.WriteLine($"[rank {rank}] {line.TrimEnd('\r')}");
        Console.Error.Flush();
        LetLauncherTakeOutput(TimeSpan.FromSeconds(1));
        Abort(errorCode);
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until the launcher has read what this rank wrote to stdout and stderr.
    /// MPI_Abort makes the launcher tear the job down, and MPICH's hydra then drops output of the aborting rank that it
    /// had not read yet: the reason for the abort was lost in about one run in five when stderr was a pipe.
    /// </summary>
    private static void LetLauncherTakeOutput(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while ((Pipes.Unread(1) > 0 || Pipes.Unread(2) > 0) && clock.Elapsed < limit) Thread.Sleep(2);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not Linux: nothing to wait for */ }
    }

    /// <summary>Seconds since an arbitrary time in the past (<c>MPI_Wtime</c>).</summary>
    public static double Wtime() => MpiNative.Wtime != null ? MpiNative.Wtime() : LoadThen(() => MpiNative.Wtime());

    /// <summary>Resolution of <see cref="Wtime"/> in seconds (<c>MPI_Wtick</c>).</summary>
    public static double Wtick() => MpiNative.Wtick != null ? MpiNative.Wtick() : LoadThen(() => MpiNative.Wtick());

    /// <summary>Name of this processor/host (<c>MPI_Get_processor_name</c>).</summary>
    public static string ProcessorName
    {
        get
        {
            RequireInitialized();
            int max = MpiLibrary.Abi.MaxProcessorName;
            byte* buffer = stackalloc byte[max + 1];
            int length = 0;
            MpiError.Check(MpiNative.Get_processor_name(buffer, &length), "MPI_Get_processor_name");
            return Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, max));
        }
    }

    /// <summary>The library's version text (<c>MPI_Get_library_version</c>); loads the library, works before Init.</summary>
    public static string LibraryVersion
    {
        get
        {
            MpiLibrary.Load();
            return MpiLibrary.LibraryVersion;
        }
    }

    /// <summary>The file name the library was loaded from (e.g. libmpi.so.40); loads it if needed.</summary>
    public static string LibraryPath
    {
        get
        {
            MpiLibrary.Load();
            return MpiLibrary.LibraryPath;
        }
    }

    /// <summary>The loaded library's ABI; loads it if needed.</summary>
    public static MpiAbi Abi => MpiLibrary.Abi.Kind;

    /// <summary>The MPI standard version the library implements (<c>MPI_Get_version</c>).</summary>
    public static Version Version
    {
        get
        {
            MpiLibrary.Load();
            int major = 0, minor = 0;
            MpiError.Check(MpiNative.Get_version(&major, &minor), "MPI_Get_version");
            return new Version(major, minor);
        }
    }

    internal static Comm RequireWorld()
    {
        RequireInitialized();
        return s_world!;
    }

    internal static Comm RequireSelf()
    {
        RequireInitialized();
        return s_self!;
    }

    internal static void RequireInitialized()
    {
        if (s_initialized) return;
        if (s_finalized) throw FinalizedError();
        throw new InvalidOperationException("MPI is not initialized: call MpiEnvironment.Init() first (once per process, before any communicator is used).");
    }

    private static InvalidOperationException FinalizedError() =>
        new("MPI has already been finalized in this process and cannot be initialized or used again. Call MpiEnvironment.Finalize() only at the very end.");

    private static double LoadThen(Func<double> f)
    {
        MpiLibrary.Load();
        return f();
    }
}
