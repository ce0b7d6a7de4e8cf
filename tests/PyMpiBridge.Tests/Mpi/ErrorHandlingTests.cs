using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// Bad input and MPI errors become clear exceptions and the job carries on (scenario "errors", 3 ranks);
/// Abort ends the whole job with its code instead of hanging (scenario "abort").
/// </summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class ErrorHandlingTests(MpiFlavor flavor)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, 3, "errors");

    [Test]
    public void Job_ExitsCleanlyAfterAllErrors() => _run.AssertSucceeded();

    [Test]
    public void Send_DestOutOfRange_ThrowsNamingValidRanks() => _run.AssertOkOnEveryRank("dest out of range");

    [Test]
    public void Recv_SourceOutOfRange_ThrowsNamingWildcards() => _run.AssertOkOnEveryRank("source out of range");

    [Test]
    public void Send_NegativeTag_Throws()
    {
        _run.AssertOkOnEveryRank("negative tag");
        _run.AssertOkOnEveryRank("anytag on send");
    }

    [Test]
    public void Bcast_RootOutOfRange_Throws() => _run.AssertOkOnEveryRank("root out of range");

    [Test]
    public void VCollective_CountsLengthNotSize_Throws() => _run.AssertOkOnEveryRank("counts length");

    [Test]
    public void VCollective_NegativeCount_Throws() => _run.AssertOkOnEveryRank("negative count");

    [Test]
    public void Gather_ReceiveBufferTooSmall_ThrowsWithSizes() => _run.AssertOkOnEveryRank("gather buffer too small");

    [Test]
    public void Send_UnsupportedElementType_ThrowsNotSupportedNamingType() => _run.AssertOkOnEveryRank("unsupported type");

    [Test]
    public void Sendrecv_OverlappingBuffers_Throws() => _run.AssertOkOnEveryRank("sendrecv overlap");

    [Test]
    public void Recv_IntoTooSmallBuffer_ThrowsWithSizes()
    {
        var details = _run.AssertOkOnEveryRank("recv truncate");
        Assert.That(details, Is.All.Contains("MpiException").And.All.Contains("holds 2 Int32 elements (8 bytes)"));
        if (flavor == MpiFlavor.OpenMpi) Assert.That(details, Is.All.Contains("has 20 bytes (5 Int32 elements)"));
    }

    [Test]
    public void Irecv_IntoTooSmallBuffer_WaitThrowsWithSizes() => _run.AssertOkOnEveryRank("irecv truncate");

    [Test]
    public void Waitall_WithTruncatedReceive_CompletesAllThenThrows() => _run.AssertOkOnEveryRank("waitall reports truncation");

    [Test]
    public void World_StillUsableAfterErrors() => _run.AssertOkOnEveryRank("world usable after errors");

    [Test]
    public void DisposedComm_ThrowsObjectDisposed() => _run.AssertOkOnEveryRank("disposed comm");

    [Test]
    public void UserOp_WrongElementType_Throws() => _run.AssertOkOnEveryRank("op type mismatch");

    [Test]
    public void UserOp_Disposed_ThrowsObjectDisposed() => _run.AssertOkOnEveryRank("disposed op");

    [Test]
    public void AfterFinalize_EveryUseThrowsInvalidOperation()
    {
        _run.AssertOkOnEveryRank("world after finalize");
        _run.AssertOkOnEveryRank("send after finalize");
        _run.AssertOkOnEveryRank("init after finalize");
    }

    [Test]
    public async Task Abort_OnOneRank_EndsWholeJobWithNonZeroExit()
    {
        var abort = await ScenarioRun.GetAsync(flavor, 3, "abort");
        Assert.That(abort.Job.TimedOut, Is.False, "the job hung after MPI_Abort\n" + abort.Describe());
        Assert.That(abort.Job.ExitCode, Is.Not.EqualTo(0), abort.Describe());
        Assert.That(abort.Lines.Keys.Where(k => k.Check == "after abort"), Is.Empty, "a barrier completed after a rank aborted");
        Assert.That(abort.Job.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }
}
