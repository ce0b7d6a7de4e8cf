using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// A failure on one rank that the program catches, while the other ranks wait for that rank, ends the job with the
/// reason instead of hanging (2 ranks, rank 1 fails; every run is under <see cref="ScenarioRun.Timeout"/>).
/// </summary>
public class JobFailureTests
{
    private static async Task<ScenarioRun> EndedWithin(string scenario, MpiFlavor flavor = MpiFlavor.OpenMpi)
    {
        var run = await ScenarioRun.GetAsync(flavor, 2, scenario);
        Assert.That(run.Job.TimedOut, Is.False, $"the job hung\n{run.Describe()}");
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        return run;
    }

    [Test]
    public async Task RankSessionDisposedByACaughtException_AbortsTheJobNamingTheException()
    {
        var run = await EndedWithin("failure-session-disposed-by-exception");
        Assert.That(run.Job.Stderr, Does.Contain("[rank 1] aborting the job (exit code 1): the rank session was disposed by an exception"));
        Assert.That(run.Job.Stderr, Does.Contain("kernel failed on rank 1"));
        Assert.That(run.Job.Stdout, Does.Not.Contain("program returned normally"));
    }

    [Test]
    public async Task AsyncMainWithUsingRank_ThrowingAfterAnAwait_AbortsTheJob()
    {
        var run = await EndedWithin("failure-async-main");
        Assert.That(run.Job.Stderr, Does.Contain("[rank 1] aborting the job"));
        Assert.That(run.Job.Stderr, Does.Contain("async kernel failed on rank 1"));
    }

    [TestCase(MpiFlavor.OpenMpi)]
    [TestCase(MpiFlavor.Mpich)]
    public async Task CollectiveCheckFailingOnlyOnRoot_AbortsTheJobWithTheReason_EvenIfRootCatchesIt(MpiFlavor flavor)
    {
        var run = await EndedWithin("failure-root-only-check", flavor);
        Assert.That(run.Job.Stderr, Does.Contain("[rank 1] aborting the job (exit code 1): a collective on communicator 'World' (rank 1 of 2) cannot start on this rank"));
        Assert.That(run.Job.Stderr, Does.Contain("send holds 3 elements but Scatter of 4 elements to each of 2 ranks needs 8"));
        Assert.That(run.Job.Stdout, Does.Not.Contain("caught"), "the failing rank aborts instead of throwing");
        Assert.That(run.Job.Stdout, Does.Not.Contain("after scatter"));
    }

    [TestCase(MpiFlavor.OpenMpi)]
    [TestCase(MpiFlavor.Mpich)]
    public async Task UserOpThrowingOnOneRank_AbortsTheJobNamingThatRank(MpiFlavor flavor)
    {
        var run = await EndedWithin("failure-user-op-on-one-rank", flavor);
        Assert.That(run.Job.Stderr, Does.Contain("the reduce function of 'user op #"));
        Assert.That(run.Job.Stderr, Does.Contain("threw on rank 1 of communicator 'World' (2 ranks)"));
        Assert.That(run.Job.Stderr, Does.Contain("boom in reduce on rank 1"));
        Assert.That(run.Job.Stdout, Does.Not.Contain("after user op"), "no rank goes on past the reduction");
    }
}
