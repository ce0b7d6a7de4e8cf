using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// A library that does not speak the launcher's protocol would make every rank a 1-rank world and the job would "work"
/// N times over; instead each rank stops with a message saying what it saw and what to set. (Under Slurm, where this
/// happens without any override, tests/slurm checks it with a real srun.)
/// </summary>
public class LaunchMismatchTests
{
    [TestCase(MpiFlavor.OpenMpi, "libmpich.so.12", "Open MPI's mpiexec started this process as one of 2 ranks (OMPI_COMM_WORLD_SIZE=2", "(MPICH 4")]
    [TestCase(MpiFlavor.Mpich, "libmpi.so.40", "a PMI launcher (MPICH's mpiexec.mpich, Intel MPI's mpiexec) started this process as one of 2 ranks (PMI_SIZE=2", "(Open MPI 4")]
    public async Task WrongLibraryOverride_EveryRankStopsSayingWhatItSawAndWhatToSet(MpiFlavor flavor, string library, string launcher, string implementation)
    {
        var run = await ScenarioRun.GetAsync(flavor, 2, "info", new Dictionary<string, string> { ["PYMPI_MPI_LIBRARY"] = library });
        Assert.That(run.Job.TimedOut, Is.False, run.Describe());
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        Assert.That(run.Lines.Keys.Where(k => k.Check == "size"), Is.Empty, "no rank may go on as a 1-rank world\n" + run.Describe());
        Assert.That(run.Job.Stdout, Does.Contain("scenario FAIL MpiLaunchException: " + launcher)
            .And.Contain($"{library} {implementation}").And.Contain("chosen by PYMPI_MPI_LIBRARY").And.Contain("sees a world of 1 rank")
            .And.Contain("Set PYMPI_MPI_LIBRARY to the library this launcher serves"), run.Describe());
    }

    [Test]
    public async Task SrunWithoutMpiPlugin_RefusesBeforeLoadingAnyLibrary()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?>
        {
            ["PYMPI_MPI_LIBRARY"] = null, ["SLURM_STEP_NUM_TASKS"] = "3", ["SLURM_PROCID"] = "0", ["SLURM_MPI_TYPE"] = "none",
        });
        Assert.That(run.Job.TimedOut, Is.False, run.Describe());
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        Assert.That(run.Job.Stdout, Does.Contain("MpiLaunchException: srun --mpi=none started this process as one of 3 tasks")
            .And.Contain("srun --mpi=pmix").And.Contain("pympi run -n 3"), run.Describe());
    }

    [Test]
    public async Task SrunWithoutMpiPlugin_WithOverrideThatFormsNoJob_IsRefusedAfterInit()
    {
        var run = await ScenarioRun.SingletonAsync("info", new Dictionary<string, string?>
        {
            ["PYMPI_MPI_LIBRARY"] = "libmpich.so.12", ["SLURM_STEP_NUM_TASKS"] = "3", ["SLURM_PROCID"] = "0",
        });
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        Assert.That(run.Job.Stdout, Does.Contain("MpiLaunchException: srun --mpi=none started this process as one of 3 ranks")
            .And.Contain("libmpich.so.12 (MPICH"), run.Describe());
    }
}
