using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Environment: what is loaded and why, Init before/after, adopting an MPI someone else initialized, the blocking-call hook.</summary>
public static class EnvironmentScenarios
{
    public static void Register(ScenarioRegistry add)
    {
        add("info", RunInfo);
        add("lifecycle", RunLifecycle, initializeMpi: false);
        add("adopt", RunAdopt, initializeMpi: false);
        add("hook", RunHook);
    }

    /// <summary>Prints which library and ABI were chosen; tests compare with the launcher they used.</summary>
    private static void RunInfo(ScenarioContext ctx)
    {
        var w = ctx.World;
        ctx.Ok("abi", MpiEnvironment.Abi.ToString());
        ctx.Ok("library", MpiEnvironment.LibraryPath);
        ctx.Ok("size", w.Size.ToString());
        ctx.Check("version", MpiEnvironment.Version.Major >= 3, MpiEnvironment.Version.ToString());
        ctx.Check("thread level", MpiEnvironment.ProvidedThreadLevel == ThreadLevel.Multiple, MpiEnvironment.ProvidedThreadLevel.ToString());
        double t0 = MpiEnvironment.Wtime();
        double t1 = MpiEnvironment.Wtime();
        ctx.Check("wtime", t1 >= t0 && MpiEnvironment.Wtick() > 0 && MpiEnvironment.Wtick() < 1, $"t {t0:g6}, tick {MpiEnvironment.Wtick():g3}");
        ctx.Check("processor name", MpiEnvironment.ProcessorName.Length > 0, MpiEnvironment.ProcessorName);
        ctx.Check("owns init", MpiEnvironment.OwnsInitialization, "");
    }

    /// <summary>Before Init: clear errors, library info works. Init twice is idempotent. After Finalize: clear errors.</summary>
    private static void RunLifecycle(ScenarioContext ctx)
    {
        ctx.Expect<InvalidOperationException>("world before init", () => _ = Comm.World,
            e => e.Message.Contains("MpiEnvironment.Init()"));
        ctx.Check("library version before init", MpiEnvironment.LibraryVersion.Length > 0 && !MpiEnvironment.IsInitialized,
            MpiEnvironment.LibraryVersion.Split('\n')[0]);
        var first = MpiEnvironment.Init();
        var second = MpiEnvironment.Init(ThreadLevel.Single);
        ctx.Check("init idempotent", first == second && MpiEnvironment.IsInitialized && MpiEnvironment.OwnsInitialization, first.ToString());
        ctx.Check("world after init", Comm.World.Allreduce(1, Op.Sum) == Comm.World.Size, $"size {Comm.World.Size}");
        MpiEnvironment.Finalize();
        MpiEnvironment.Finalize(); // twice is fine
        ctx.Check("finalized", MpiEnvironment.IsFinalized && !MpiEnvironment.IsInitialized, "");
    }

    /// <summary>Someone else (here: a raw MPI_Init_thread, as mpi4py would) initialized MPI: we adopt it and do not finalize it.</summary>
    private static void RunAdopt(ScenarioContext ctx)
    {
        var provided = ForeignMpi.InitThread(ThreadLevel.Multiple);
        var level = MpiEnvironment.Init();
        ctx.Check("adopted", !MpiEnvironment.OwnsInitialization && level == provided, level.ToString());
        ctx.Check("adopted world works", Comm.World.Allreduce(1, Op.Sum) == Comm.World.Size, "");
        MpiEnvironment.Finalize();
        ctx.Check("not finalized by us", !ForeignMpi.IsFinalized(), "");
        ForeignMpi.FinalizeMpi(); // the owner finalizes
        ctx.Check("owner finalized", ForeignMpi.IsFinalized(), "");
    }

    private sealed class CountingHook : IBlockingCallHook
    {
        public int Entered, Exited;
        public nint Enter() => ++Entered;
        public void Exit(nint token)
        {
            if (token == Entered) Exited++;
        }
    }

    /// <summary>Every blocking call passes the hook (where the bridge will release the GIL); non-blocking ones do not.</summary>
    private static void RunHook(ScenarioContext ctx)
    {
        var w = ctx.World;
        var hook = new CountingHook();
        BlockingRegion.Hook = hook;
        try
        {
            int right = (ctx.Rank + 1) % w.Size, left = (ctx.Rank + w.Size - 1) % w.Size;
            w.Barrier();                                          // 1
            w.Sendrecv([1], right, 0, new int[1], left, 0);       // 2
            w.Allreduce(1, Op.Sum);                               // 3
            w.Bcast(new int[1], 0);                               // 4
            var r = w.Irecv(new int[1], left, 1);                 // not blocking
            w.Send([1], right, 1);                                // 5
            r.Wait();                                             // 6
            ctx.Check("hook counts blocking calls", hook.Entered == 6 && hook.Exited == 6, $"entered {hook.Entered} exited {hook.Exited}");
        }
        finally
        {
            BlockingRegion.Hook = null;
        }
    }
}
