using PyMpiBridge.Mpi;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// The decision table of <see cref="LaunchEnvironment"/>: environments as each launcher leaves them (recorded on this
/// machine under Slurm 22.05, Open MPI 4.1.4 and MPICH 4.0.2), and the check of the world MPI formed.
/// </summary>
public class LaunchEnvironmentTests
{
    /// <summary>An environment from "NAME=value NAME=value".</summary>
    internal static Dictionary<string, string> Env(string variables) =>
        variables.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    private static readonly object[] s_table =
    [
        // environment, kind, ranks, preferred ABI, launcher words
        new object?[] { "", MpiLauncherKind.None, null, null, "no launcher" },
        new object?[] { "OMPI_COMM_WORLD_SIZE=4 OMPI_COMM_WORLD_RANK=0 PMIX_RANK=0 PMIX_NAMESPACE=1768423425", MpiLauncherKind.OpenMpiMpiexec, 4, MpiAbi.OpenMpi, "Open MPI's mpiexec" },
        // Open MPI's mpiexec inside an allocation: its orteds were started by srun, the ranks inherit their step
        new object?[] { "OMPI_COMM_WORLD_SIZE=8 PMIX_RANK=3 SLURM_STEP_NUM_TASKS=2 SLURM_MPI_TYPE=none SLURM_NTASKS=8", MpiLauncherKind.OpenMpiMpiexec, 8, MpiAbi.OpenMpi, "Open MPI's mpiexec" },
        new object?[] { "PMI_FD=6 PMI_RANK=0 PMI_SIZE=2 MPI_LOCALNRANKS=2", MpiLauncherKind.Pmi, 2, MpiAbi.Mpich, "a PMI launcher" },
        // hydra inside an allocation: its proxies are a 1-task srun step
        new object?[] { "PMI_FD=5 PMI_RANK=0 PMI_SIZE=4 SLURM_STEP_NUM_TASKS=1 SLURM_PROCID=0 SLURM_NTASKS=4", MpiLauncherKind.Pmi, 4, MpiAbi.Mpich, "a PMI launcher" },
        new object?[] { "PMI_FD=11 PMI_JOBID=4.0 PMI_RANK=0 PMI_SIZE=2 SLURM_MPI_TYPE=pmi2 SLURM_STEP_NUM_TASKS=2", MpiLauncherKind.Pmi, 2, MpiAbi.Mpich, "srun --mpi=pmi2" },
        new object?[] { "PMIX_RANK=0 PMIX_NAMESPACE=slurm.pmix.3.0 SLURM_MPI_TYPE=pmix SLURM_STEP_NUM_TASKS=2 SLURM_PROCID=0", MpiLauncherKind.Pmix, 2, MpiAbi.OpenMpi, "srun --mpi=pmix" },
        new object?[] { "PMIX_RANK=1 PMIX_NAMESPACE=slurm.pmix.9.0 SLURM_MPI_TYPE=pmix_v4 SLURM_STEP_NUM_TASKS=3", MpiLauncherKind.Pmix, 3, MpiAbi.OpenMpi, "srun --mpi=pmix_v4" },
        new object?[] { "PMIX_RANK=0 PMIX_NAMESPACE=prterun-vm-1234@1", MpiLauncherKind.Pmix, null, MpiAbi.OpenMpi, "a PMIx launcher" },
        new object?[] { "PALS_RANKID=1 PALS_NODEID=0 SLURM_MPI_TYPE=cray_shasta SLURM_STEP_NUM_TASKS=2", MpiLauncherKind.CrayPals, 2, MpiAbi.Mpich, "srun --mpi=cray_shasta" },
        new object?[] { "SLURM_STEP_NUM_TASKS=2 SLURM_PROCID=1 SLURM_STEP_ID=0", MpiLauncherKind.SrunWithoutMpi, 2, null, "srun --mpi=none" },
        // an sbatch script and a salloc shell are not ranks: no step, whatever SLURM_NTASKS says
        new object?[] { "SLURM_JOB_ID=13 SLURM_NTASKS=4 SLURM_NPROCS=4 SLURM_PROCID=0 SLURM_LOCALID=0", MpiLauncherKind.None, null, null, "no launcher" },
        new object?[] { "SLURM_JOB_ID=12 SLURM_NTASKS=4 SLURM_TASKS_PER_NODE=4", MpiLauncherKind.None, null, null, "no launcher" },
        // a number we cannot read is no number
        new object?[] { "OMPI_COMM_WORLD_SIZE=four", MpiLauncherKind.OpenMpiMpiexec, null, MpiAbi.OpenMpi, "Open MPI's mpiexec" },
    ];

    [TestCaseSource(nameof(s_table))]
    public void Detect_ReadsTheLauncherFromItsVariables(string variables, MpiLauncherKind kind, int? ranks, MpiAbi? abi, string launcher)
    {
        var launch = LaunchEnvironment.Detect(Env(variables));
        Assert.Multiple(() =>
        {
            Assert.That(launch.Kind, Is.EqualTo(kind));
            Assert.That(launch.Ranks, Is.EqualTo(ranks));
            Assert.That(launch.PreferredAbi, Is.EqualTo(abi));
            Assert.That(launch.Launcher, Does.StartWith(launcher));
        });
    }

    [Test]
    public void Detect_EvidenceNamesTheVariablesThatDecided()
        => Assert.That(LaunchEnvironment.Detect(Env("PMIX_RANK=0 PMIX_NAMESPACE=slurm.pmix.3.0 SLURM_MPI_TYPE=pmix SLURM_STEP_NUM_TASKS=2 HOME=/root")).Evidence,
            Is.EqualTo("PMIX_RANK=0, PMIX_NAMESPACE=slurm.pmix.3.0, SLURM_MPI_TYPE=pmix, SLURM_STEP_NUM_TASKS=2"));

    [TestCase("SLURM_STEP_NUM_TASKS=4 SLURM_MPI_TYPE=none", true)]
    [TestCase("SLURM_STEP_NUM_TASKS=1 SLURM_MPI_TYPE=none", false)]
    [TestCase("PMIX_RANK=0 SLURM_MPI_TYPE=pmix SLURM_STEP_NUM_TASKS=4", false)]
    [TestCase("", false)]
    public void Undecidable_OnlyForSeveralTasksOfSrunWithoutMpiPlugin(string variables, bool undecidable)
        => Assert.That(LaunchEnvironment.Detect(Env(variables)).Undecidable, undecidable ? Is.Not.Null : Is.Null);

    [Test]
    public void CheckWorld_MpichUnderSrunPmix_SaysWhatWasSeenAndToSetTheLibrary()
    {
        var launch = LaunchEnvironment.Detect(Env("PMIX_RANK=0 PMIX_NAMESPACE=slurm.pmix.3.0 SLURM_MPI_TYPE=pmix SLURM_STEP_NUM_TASKS=4"));
        var mpich = MpiImplementation.Classify("MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 12:34:45 CDT 2022")!;
        string? wrong = launch.CheckWorld(1, "libmpich.so.12", mpich.ToString(), "PYMPI_MPI_LIBRARY");
        Assert.That(wrong, Does.Contain("srun --mpi=pmix started this process as one of 4 ranks")
            .And.Contain("SLURM_STEP_NUM_TASKS=4").And.Contain("libmpich.so.12 (MPICH 4.0.2, chosen by PYMPI_MPI_LIBRARY)")
            .And.Contain("a world of 1 rank").And.Contain("Set PYMPI_MPI_LIBRARY"));
    }

    [TestCase("OMPI_COMM_WORLD_SIZE=4", 4)]       // the job formed
    [TestCase("", 1)]                             // a singleton, as asked
    [TestCase("SLURM_STEP_NUM_TASKS=1", 1)]       // srun of one task
    [TestCase("PMIX_RANK=0 PMIX_NAMESPACE=p", 1)] // the launcher does not say how many: nothing to hold against
    public void CheckWorld_WorldAsTheLauncherStartedIt_IsFine(string variables, int worldSize)
        => Assert.That(LaunchEnvironment.Detect(Env(variables)).CheckWorld(worldSize, "libmpi.so.40", "Open MPI 4.1.4", "the launcher"), Is.Null);

    [Test]
    public void CheckWorld_OpenMpiUnderHydra_IsRefused()
        => Assert.That(LaunchEnvironment.Detect(Env("PMI_RANK=1 PMI_SIZE=2 PMI_FD=6")).CheckWorld(1, "libmpi.so.40", "Open MPI 4.1.4", "PYMPI_MPI_LIBRARY"),
            Does.Contain("one of 2 ranks").And.Contain("PMI_SIZE=2"));
}
