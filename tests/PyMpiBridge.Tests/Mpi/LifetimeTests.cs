using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>What MPI still uses stays alive until MPI is done with it (scenario "lifetimes", 2 ranks).</summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class LifetimeTests(MpiFlavor flavor)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, 2, "lifetimes");

    [Test]
    public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    [Test]
    public void OpDisposedWhileItsNonblockingReductionIsPending_StaysUsableByThatReduction()
        => _run.AssertOkOnEveryRank("op disposed while its reduction is pending");

    [Test]
    public void NativeBufferMemory_IsKeptAliveByAPendingReceive_NotFreedByItsFinalizer()
        => _run.AssertOkOnEveryRank("native buffer memory kept alive by a pending receive");

    [Test]
    public void WaitallFailingMidway_MarksTheRequestsMpiCompletedAsCompleted()
        => _run.AssertOkOnEveryRank("waitall failing midway marks completed requests");

    [Test]
    public void WaitallFailingMidway_OverMoreRequestsThanOneWaitsome_MarksCompletedOnesAndKeepsTheOthersLive()
        => _run.AssertOkOnEveryRank("waitall failing midway over many requests");

    [Test]
    public void WaitallWithOneTruncatedReceiveAmongMany_CompletesEveryRequestThenThrowsTheTruncation()
        => _run.AssertOkOnEveryRank("waitall with a truncated receive among many");
}

/// <summary>A numpy array's memory handed to MPI as Memory (scenario "lifetimes-python", Python needs Open MPI here).</summary>
public class PythonBufferLifetimeTests
{
    [Test]
    public async Task PyBufferMemory_OnANumpyArray_IsKeptAliveByAPendingReceive_NotReleasedByItsFinalizer()
    {
        var run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, 1, "lifetimes-python");
        run.AssertSucceeded();
        run.AssertOkOnEveryRank("numpy buffer memory kept alive by a pending receive");
    }
}
