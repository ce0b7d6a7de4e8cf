using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Requests and nonblocking collectives on 4 ranks (scenario "nonblocking").</summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class NonblockingTests(MpiFlavor flavor)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, 4, "nonblocking");

    [Test]
    public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    [Test]
    public void IsendIrecv_Wait_DeliversAndCompletes() => _run.AssertOkOnEveryRank("isend irecv wait");

    [Test]
    public void Waitall_CompletesEveryRequestWithItsStatus() => _run.AssertOkOnEveryRank("waitall");

    [Test]
    public void Waitall_OfTwentyThousandRequests_CompletesThemAllInLinearTime() => _run.AssertOkOnEveryRank("waitall 10000 pairs");

    [Test]
    public void Waitany_ReturnsEachRequestOnceThenMinusOne()
    {
        _run.AssertOkOnEveryRank("waitany");
        Assert.That(_run.AssertOk(0, "waitany"), Is.EqualTo("4 then -1"));
    }

    [Test]
    public void TestAndTestall_ReportCompletionWithoutBlocking() => _run.AssertOkOnEveryRank("test testall");

    [Test]
    public void WaitAsync_CompletesManyRequestsOutOfOrder() => _run.AssertOkOnEveryRank("waitasync");

    [Test]
    public void WaitAsync_CancelledToken_CancelsTaskAndRequestCanBeCancelled() => _run.AssertOkOnEveryRank("waitasync cancel");

    [Test]
    public void Ibarrier_Completes() => _run.AssertOkOnEveryRank("ibarrier");

    [Test]
    public void Ibcast_DeliversRootData() => _run.AssertOkOnEveryRank("ibcast");

    [Test]
    public void Iallreduce_SumsAndInPlaceMax() => _run.AssertOkOnEveryRank("iallreduce");
}
