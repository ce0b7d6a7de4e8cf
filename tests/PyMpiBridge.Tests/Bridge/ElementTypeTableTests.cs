using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>
/// The one table of element types, walked in a real job under each ABI: for every entry, MPI's datatype size,
/// point-to-point messages, reductions (or their refusal), numpy sharing both ways and object messages agree.
/// </summary>
[TestFixture(MpiFlavor.OpenMpi, 2)]
[TestFixture(MpiFlavor.Mpich, 2)]
public class ElementTypeTableTests(MpiFlavor flavor, int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(flavor, ranks, "element-types");

    [Test] public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();

    private static IEnumerable<string> Names => ElementType.All.Select(e => e.Type.Name);
    [TestCaseSource(nameof(Names))] public void MpiDatatype_HasTheTablesSize(string type) => _run.AssertOkOnEveryRank($"mpi size {type}");
    [TestCaseSource(nameof(Names))] public void SendRecv_DeliversEveryValue(string type) => _run.AssertOkOnEveryRank($"send recv {type}");
    [TestCaseSource(nameof(Names))] public void PredefinedReduction_ComputesOrIsRefused(string type) => _run.AssertOkOnEveryRank($"reduce {type}");
    [TestCaseSource(nameof(Names))] public void DotnetArray_SeenByNumpy_WithTheTablesDtype(string type) => _run.AssertOkOnEveryRank($"to numpy {type}");
    [TestCaseSource(nameof(Names))] public void NumpyArray_ViewedFromCSharp(string type) => _run.AssertOkOnEveryRank($"from numpy {type}");
    internal static IEnumerable<string> CanonicalNames => ElementType.All.Where(e => e.Canonical).Select(e => e.Type.Name);
}

/// <summary>
/// Object messages of every canonical element type. They use mpi4py's pickler, and Debian's mpi4py is built on Open MPI,
/// so this part of the walk exists under Open MPI only (the same job as <see cref="ElementTypeTableTests"/>'s).
/// </summary>
public class ElementTypeObjectMessageTests
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, 2, "element-types");

    [TestCaseSource(typeof(ElementTypeTableTests), nameof(ElementTypeTableTests.CanonicalNames))]
    public void ObjectMessage_BringsTheArrayBackAsTheSameType(string type) => _run.AssertOkOnEveryRank($"object message {type}");
}
