using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Library choice, Init/Finalize life cycle, adoption, the blocking-call hook — under each launcher.</summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class EnvironmentTests(MpiFlavor flavor)
{
    [Test]
    public async Task Launcher_SelectsMatchingLibraryWithoutOverride()
    {
        var run = await ScenarioRun.GetAsync(flavor, 2, "info");
        run.AssertSucceeded();
        string expected = flavor == MpiFlavor.Mpich ? "Mpich" : "OpenMpi";
        Assert.That(run.AssertOkOnEveryRank("abi"), Is.All.EqualTo(expected));
        Assert.That(run.AssertOkOnEveryRank("library"), Is.All.EqualTo(flavor == MpiFlavor.Mpich ? "libmpich.so.12" : "libmpi.so.40"));
        Assert.That(run.AssertOkOnEveryRank("size"), Is.All.EqualTo("2"));
        foreach (string check in new[] { "version", "thread level", "wtime", "processor name", "owns init" })
            run.AssertOkOnEveryRank(check);
    }

    [Test]
    public async Task Lifecycle_InitIdempotent_ClearErrorsBeforeInitAndAfterFinalize()
    {
        var run = await ScenarioRun.GetAsync(flavor, 1, "lifecycle");
        run.AssertSucceeded();
        foreach (string check in new[] { "world before init", "library version before init", "init idempotent", "world after init", "finalized" })
            run.AssertOkOnEveryRank(check);
    }

    [Test]
    public async Task Init_WhenAlreadyInitialized_AdoptsAndLeavesFinalizeToOwner()
    {
        var run = await ScenarioRun.GetAsync(flavor, 2, "adopt");
        run.AssertSucceeded();
        foreach (string check in new[] { "adopted", "adopted world works", "not finalized by us", "owner finalized" })
            run.AssertOkOnEveryRank(check);
    }

    [Test]
    public async Task BlockingCalls_AllPassTheHook()
    {
        var run = await ScenarioRun.GetAsync(flavor, 2, "hook");
        run.AssertSucceeded();
        Assert.That(run.AssertOkOnEveryRank("hook counts blocking calls"), Is.All.EqualTo("entered 6 exited 6"));
    }
}

/// <summary>Started without mpiexec: a 1-rank world; PYMPI_MPI_LIBRARY picks the library; a bad one gets a clear error.</summary>
public class SingletonTests
{
    [Test]
    public async Task WithoutLauncher_DefaultsToOpenMpiSingleton()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?> { ["PYMPI_MPI_LIBRARY"] = null });
        run.AssertSucceeded();
        Assert.That(run.AssertOk(0, "abi"), Is.EqualTo("OpenMpi"));
        Assert.That(run.AssertOk(0, "size"), Is.EqualTo("1"));
    }

    [Test]
    public async Task LibraryOverride_LoadsMpichSingleton()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?> { ["PYMPI_MPI_LIBRARY"] = "libmpich.so.12" });
        run.AssertSucceeded();
        Assert.That(run.AssertOk(0, "abi"), Is.EqualTo("Mpich"));
        Assert.That(run.AssertOk(0, "library"), Is.EqualTo("libmpich.so.12"));
    }

    [Test]
    public async Task LibraryOverride_Missing_FailsSayingWhatWasTriedAndWhatToInstall()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?> { ["PYMPI_MPI_LIBRARY"] = "/nonexistent/libmpi.so.40" });
        Assert.That(run.Job.TimedOut, Is.False);
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Job.Stdout, Does.Contain("DllNotFoundException").And.Contain("/nonexistent/libmpi.so.40")
            .And.Contain("apt-get install openmpi-bin libopenmpi-dev").And.Contain("PYMPI_MPI_LIBRARY"));
    }

    [Test]
    public async Task LibraryOverride_NotAnMpiLibrary_FailsClearly()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?> { ["PYMPI_MPI_LIBRARY"] = "libc.so.6" });
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Job.Stdout, Does.Contain("not an MPI library"));
    }
}
