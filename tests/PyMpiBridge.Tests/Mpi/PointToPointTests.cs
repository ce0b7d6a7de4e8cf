using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Blocking point-to-point on 4 ranks (scenario "p2p"), against both MPI implementations.</summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class PointToPointTests(MpiFlavor flavor)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, 4, "p2p");

    [Test]
    public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    [TestCase("SByte"), TestCase("Byte"), TestCase("Int16"), TestCase("UInt16"), TestCase("Int32"), TestCase("UInt32")]
    [TestCase("Int64"), TestCase("UInt64"), TestCase("Single"), TestCase("Double"), TestCase("Boolean"), TestCase("Char"), TestCase("Complex")]
    public void SendRecv_RoundTripsElementType(string type) => _run.AssertOkOnEveryRank($"p2p {type}");

    [Test]
    public void Sendrecv_Ring_PassesEachRankToTheRight()
    {
        var details = _run.AssertOkOnEveryRank("sendrecv ring");
        Assert.That(details, Is.EqualTo(new[] { "3", "0", "1", "2" }));
    }

    [Test]
    public void Ssend_CompletesWithMatchingReceive() => _run.AssertOkOnEveryRank("ssend");

    [Test]
    public void Probe_GetCount_SizesTheReceiveBuffer()
    {
        _run.AssertOkOnEveryRank("probe getcount");
        Assert.That(_run.AssertOk(3, "probe getcount"), Is.EqualTo("13"));
    }

    [Test]
    public void Mprobe_ClaimsTheMessage_RefusesShortBufferAndSecondReceive() => _run.AssertOkOnEveryRank("mprobe mrecv");

    [Test]
    public void Iprobe_WithNothingSent_ReturnsFalse() => _run.AssertOkOnEveryRank("iprobe empty");

    [Test]
    public void ProcNull_SendAndRecv_CompleteWithoutData() => _run.AssertOkOnEveryRank("procnull");

    [Test]
    public void Recv_AnySource_ReportsSenderInStatus()
    {
        _run.AssertOkOnEveryRank("anysource");
        Assert.That(_run.AssertOk(0, "anysource"), Is.EqualTo("1,2,3"));
    }

    [Test]
    public void Recv_ShorterMessage_StatusCountsWhatArrived() => _run.AssertOkOnEveryRank("short message");

    [Test]
    public void Sendrecv_FourMiB_ArrivesIntact() => _run.AssertOkOnEveryRank("large message");
}
