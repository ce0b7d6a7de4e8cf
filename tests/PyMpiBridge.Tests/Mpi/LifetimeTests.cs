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
    public void WaitallFailingMidway_MarksTheRequestsMpiCompletedAsCompleted()
        => _run.AssertOkOnEveryRank("waitall failing midway marks completed requests");
}
