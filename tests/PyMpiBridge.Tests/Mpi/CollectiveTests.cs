using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Every collective (scenario "collectives") on 4 ranks, and on 1 and 3 ranks for the edge sizes.</summary>
[TestFixture(MpiFlavor.OpenMpi, 4)]
[TestFixture(MpiFlavor.Mpich, 4)]
[TestFixture(MpiFlavor.OpenMpi, 3)]
[TestFixture(MpiFlavor.OpenMpi, 1)]
[TestFixture(MpiFlavor.Mpich, 1)]
public class CollectiveTests(MpiFlavor flavor, int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, ranks, "collectives");

    [Test]
    public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    [TestCase("barrier"), TestCase("bcast"), TestCase("scatter"), TestCase("scatterv"), TestCase("gather"), TestCase("gatherv")]
    [TestCase("allgather"), TestCase("allgatherv"), TestCase("alltoall"), TestCase("alltoallv"), TestCase("reduce")]
    [TestCase("reduce_scatter_block"), TestCase("scan exscan")]
    public void Collective_GivesExpectedResultOnEveryRank(string check) => _run.AssertOkOnEveryRank(check);

    [Test]
    public void Allreduce_AllPredefinedOpsAndInPlace_Agree()
    {
        var details = _run.AssertOkOnEveryRank("allreduce");
        Assert.That(details, Is.All.EqualTo($"allreduce ok {ranks * (ranks - 1) / 2}"));
    }

    [Test]
    public void UserDefinedOp_CommutativeAndOrdered_ReduceCorrectly() => _run.AssertOkOnEveryRank("user op");
}
