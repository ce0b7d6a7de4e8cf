using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Dup/Split/Create/Compare/groups/Fortran handles (scenario "communicators") on 4 and 3 ranks.</summary>
[TestFixture(MpiFlavor.OpenMpi, 4)]
[TestFixture(MpiFlavor.Mpich, 4)]
[TestFixture(MpiFlavor.Mpich, 3)]
public class CommunicatorTests(MpiFlavor flavor, int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, ranks, "communicators");

    [Test]
    public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    [Test]
    public void Dup_IsCongruentAndWorks() => Assert.That(_run.AssertOkOnEveryRank("dup"), Is.All.EqualTo("Congruent"));

    [Test]
    public void Split_ByParityWithKey_OrdersRanksByKey() => _run.AssertOkOnEveryRank("split");

    [Test]
    public void Split_UndefinedColor_ReturnsNull()
    {
        _run.AssertOkOnEveryRank("split undefined");
        Assert.That(_run.AssertOk(0, "split undefined"), Is.EqualTo("null"));
    }

    [Test]
    public void CreateFromGroup_MembersGetCommNonMembersNull() => _run.AssertOkOnEveryRank("group create");

    [Test]
    public void FortranHandle_RoundTripsAndBorrowedIsNotFreed() => _run.AssertOkOnEveryRank("fortran handle");

    [Test]
    public void WorldHandle_MatchesTheAbi()
    {
        var details = _run.AssertOkOnEveryRank("world handle");
        Assert.That(details, Is.All.StartsWith(flavor == MpiFlavor.Mpich ? "Mpich 0x44000000" : "OpenMpi 0x"));
    }

    [Test]
    public void Free_DisposedCommThrowsAndWorldIsUnaffected() => _run.AssertOkOnEveryRank("free");
}
