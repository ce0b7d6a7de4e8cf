using PyMpiBridge.Launching;
using PyMpiBridge.Tool;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>
/// Where <c>pympi run</c> puts its ranks, outside Slurm and inside an allocation (the variables are those recorded in a
/// salloc shell, an sbatch script and an srun task on this machine's Slurm 22.05).
/// </summary>
public class RankPlacementTests
{
    private string _script = "";

    [SetUp]
    public void CreateScript()
    {
        _script = Path.Combine(Path.GetTempPath(), $"pympi-placement-{Guid.NewGuid():N}.py");
        File.WriteAllText(_script, "print('hi')\n");
    }

    [TearDown]
    public void DeleteScript() => File.Delete(_script);

    private static SlurmAllocation? Allocation(string variables) =>
        SlurmAllocation.FromEnvironment(PyMpiBridge.Tests.Mpi.LaunchEnvironmentTests.Env(variables));

    private const string SallocShell = "SLURM_JOB_ID=12 SLURM_NTASKS=4 SLURM_NPROCS=4 SLURM_TASKS_PER_NODE=4 SLURM_JOB_NODELIST=vm";
    private const string BatchScript = "SLURM_JOB_ID=13 SLURM_NTASKS=4 SLURM_PROCID=0 SLURM_TASKS_PER_NODE=4";
    private const string SrunTask = "SLURM_JOB_ID=3 SLURM_NTASKS=2 SLURM_STEP_NUM_TASKS=2 SLURM_STEP_ID=0 SLURM_PROCID=1 SLURM_MPI_TYPE=pmix";

    private RankPlacement Place(string variables, params string[] args) => RankPlacement.Decide(RunOptions.Parse([.. args, _script]), Allocation(variables));

    [Test]
    public void OutsideSlurm_DefaultIsOneRankInThisProcess()
        => Assert.That(Place(""), Is.EqualTo(new RankPlacement(1, InThisProcess: true, Oversubscribe: null)));

    [Test]
    public void OutsideSlurm_OversubscribesWhenRanksExceedCores()
        => Assert.That(Place("", "-n", "4"), Is.EqualTo(new RankPlacement(4, InThisProcess: false, Oversubscribe: null)));

    [TestCase(SallocShell)]
    [TestCase(BatchScript)]
    public void InAllocation_WithoutN_StartsOneRankPerTaskAndNeverOversubscribes(string variables)
        => Assert.That(Place(variables), Is.EqualTo(new RankPlacement(4, InThisProcess: false, Oversubscribe: false)));

    [Test]
    public void InAllocation_ExplicitN_IsKept()
    {
        Assert.That(Place(SallocShell, "-n", "2"), Is.EqualTo(new RankPlacement(2, InThisProcess: false, Oversubscribe: false)));
        Assert.That(Place(SallocShell, "-n", "1"), Is.EqualTo(new RankPlacement(1, InThisProcess: true, Oversubscribe: false)));
    }

    [Test]
    public void InAllocation_SrunLauncherWithOneRank_StillGoesThroughSrun()
        => Assert.That(Place(SallocShell, "-n", "1", "--launcher", "srun").InThisProcess, Is.False);

    [Test]
    public void TaskOfSrunStep_RunsAsThatOneRank()
        => Assert.That(Place(SrunTask), Is.EqualTo(new RankPlacement(1, InThisProcess: true, Oversubscribe: null)));

    [TestCase("-n", "2")]
    [TestCase("--launcher", "srun")]
    [TestCase("--timeout", "10")]
    [TestCase("--mpiexec-arg", "--bind-to")]
    public void TaskOfSrunStep_LaunchOptions_AreRefusedSayingWhy(string option, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => Place(SrunTask, option, value));
        Assert.That(e!.Message, Does.StartWith(option).And.Contain("one of its 2 tasks").And.Contain("from the allocation"));
    }

    [TestCase("4", 4)]
    [TestCase("2(x3)", 6)]
    [TestCase("4(x2),1", 9)]
    [TestCase("2(x3),1,4(x2)", 15)]
    public void TasksPerNode_SumsSlurmsCompressedCounts(string text, int tasks)
        => Assert.That(SlurmAllocation.TasksPerNode(text), Is.EqualTo(tasks));

    [TestCase("")]
    [TestCase("x")]
    [TestCase("2(x)")]
    public void TasksPerNode_Unreadable_IsNull(string text) => Assert.That(SlurmAllocation.TasksPerNode(text), Is.Null);

    [Test]
    public void Allocation_WithoutNTasks_CountsTasksPerNode()
        => Assert.That(Allocation("SLURM_JOB_ID=5 SLURM_TASKS_PER_NODE=2(x2)"), Is.EqualTo(new SlurmAllocation("5", 4, null)));

    [Test]
    public void Allocation_OutsideSlurm_IsNull() => Assert.That(Allocation("SLURM_CONF=/etc/slurm/slurm.conf"), Is.Null);
}
