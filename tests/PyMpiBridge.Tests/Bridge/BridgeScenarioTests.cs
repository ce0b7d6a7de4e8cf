using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>C# and Python sharing one MPI in every rank: same handles, derived communicators both ways.</summary>
[TestFixture(1)]
[TestFixture(3)]
public class SharedCommunicatorTests(int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, ranks, "bridge-session");

    [Test] public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();
    [Test] public void Mpi4py_IsConfiguredByHost_NotInitializingMpiItself() => _run.AssertOkOnEveryRank("mpi4py configured by host");
    [Test] public void PympibridgeWorld_HasTheSameHandleAsCSharpWorld() => _run.AssertOkOnEveryRank("same world handle");
    [Test] public void CommCreatedInCSharp_WorksInMpi4py() => _run.AssertOkOnEveryRank("csharp comm in python");
    [Test] public void CommCreatedInMpi4py_WorksInCSharp() => _run.AssertOkOnEveryRank("python comm in csharp");
    [Test] public void DisposingACSharpView_LeavesPythonsCommunicatorAlive() => _run.AssertOkOnEveryRank("view dispose leaves python comm alive");
    [Test] public void Dup_OnOneSide_IsUsableOnTheOther() => _run.AssertOkOnEveryRank("dup across languages");
    [Test] public void FromMpi4py_OfANonCommunicator_SaysWhatItGot() => _run.AssertOkOnEveryRank("non-comm rejected");
}

/// <summary>Arrays shared without copying and C# functions called from Python, inside one rank.</summary>
[TestFixture(1)]
[TestFixture(2)]
public class InRankArrayTests(int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, ranks, "bridge-arrays");

    [Test] public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();
    [Test] public void SharedArray_WritesFromEitherLanguage_AreVisibleInTheOther() => _run.AssertOkOnEveryRank("writes visible both ways");
    [Test] public void ExportedFunction_TakesMpi4pyCommunicatorAsCSharpComm() => _run.AssertOkOnEveryRank("comm argument from python");
    [Test] public void CommArgument_DisposedByTheCallee_StaysUsableForOtherHoldersAndLaterCalls()
        => _run.AssertOkOnEveryRank("comm argument disposed by its callee stays usable");
    [Test] public void ExportedFunction_GivenWrongDtype_RaisesPythonErrorNamingBothTypes() => _run.AssertOkOnEveryRank("wrong dtype explained");
    [Test] public void UnknownCSharpFunction_ErrorListsWhatIsExported() => _run.AssertOkOnEveryRank("unknown function explained");
}

/// <summary>C# ranks and Python ranks in one job: buffers and mpi4py-pickled objects, both directions.</summary>
[TestFixture(2)]
[TestFixture(4)]
public class CrossLanguageMessageTests(int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, ranks, "bridge-cross-rank");

    [Test] public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();
    [Test] public void CSharpSendOfSpan_IsReceivedByMpi4pyRecvIntoNdarray() => _run.AssertOkOnEveryRank("buffers csharp to python");
    [Test] public void Mpi4pySendOfNdarray_IsReceivedByCSharpRecvIntoSpan() => _run.AssertOkOnEveryRank("buffers python to csharp");
    [Test] public void CSharpSendObject_IsReceivedByMpi4pyLowercaseRecv() => _run.AssertOkOnEveryRank("objects csharp to python");
    [Test] public void Mpi4pyLowercaseSend_IsReceivedByCSharpRecvObject() => _run.AssertOkOnEveryRank("objects python to csharp");
    [Test] public void BcastObject_FromCSharpRoot_ReachesCSharpAndMpi4pyRanks() => _run.AssertOkOnEveryRank("bcast object");
}

/// <summary>Failure and threading rules of a rank session.</summary>
public class RankSessionBehaviourTests
{
    [Test]
    public async Task BlockingMpiCallFromCSharp_ReleasesTheGil_SoPythonThreadsRun()
    {
        var run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, 2, "bridge-gil");
        run.AssertSucceeded();
        run.AssertOkOnEveryRank("python thread ran during csharp recv");
    }

    [Test]
    public async Task UnhandledDotnetException_OnOneRank_AbortsEveryRankWithItsRankInTheTrace()
    {
        var run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, 3, "bridge-unhandled");
        Assert.That(run.Job.TimedOut, Is.False, run.Describe());
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        Assert.That(run.Job.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), run.Describe());
        Assert.That(run.Job.Stderr, Does.Contain("[rank 1] System.InvalidOperationException: worker failed on purpose"));
        Assert.That(run.Job.Stdout, Does.Not.Contain("unreachable"));
    }

    [Test]
    public async Task PythonThatCannotStart_OnAMultiRankJob_AbortsEveryRankSayingWhyAndWhatToDo()
    {
        var run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, 2, "bridge-session",
            new Dictionary<string, string> { ["PYMPI_PYTHON"] = "/bin/true", ["PYMPI_PYTHON_CACHE"] = "0" });
        Assert.That(run.Job.TimedOut, Is.False, run.Describe());
        Assert.That(run.Job.ExitCode, Is.Not.EqualTo(0), run.Describe());
        Assert.That(run.Job.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), run.Describe());
        Assert.That(run.Job.Stderr, Does.Match(@"\[rank [01]\] Python could not be started: .*'/bin/true'"), run.Describe());
        Assert.That(run.Job.Stderr, Does.Contain("PYMPI_PYTHON"), run.Describe());
    }
}

/// <summary>
/// DataFrames between the languages: an exported function taking and returning one inside every rank, and C# rank 0
/// trading frames with Python ranks (mpi4py send/recv and bcast, both directions).
/// </summary>
[TestFixture(2)]
[TestFixture(3)]
public class DataFrameMessageTests(int ranks)
{
    private ScenarioRun _run = null!;

    [OneTimeSetUp]
    public async Task RunScenario() => _run = await ScenarioRun.GetAsync(MpiFlavor.OpenMpi, ranks, "dataframe-cross-rank");

    [Test] public void Job_ExitsCleanlyOnEveryRank() => _run.AssertSucceeded();
    [Test] public void ExportedFunction_TakesAPandasFrameAsDataFrame_AndReturnsOneAsPandas() => _run.AssertOkOnEveryRank("exported function takes and returns a DataFrame");
    [Test] public void ExportedFunction_GivenAMixedTypeColumn_RaisesTypeErrorNamingIt() => _run.AssertOkOnEveryRank("bad frame raises TypeError naming the column");
    [Test] public void CSharpSendObjectOfDataFrame_ArrivesInMpi4pyAsPandas_NumbersAsRawBytes() => _run.AssertOkOnEveryRank("dataframe csharp to python");
    [Test] public void Mpi4pySendOfPandasFrame_ArrivesInRecvObjectAsDataFrame() => _run.AssertOkOnEveryRank("dataframe python to csharp");
    [Test] public void BcastObject_CarriesDataFramesFromCSharpAndPythonRoots() => _run.AssertOkOnEveryRank("bcast dataframe both ways");
}
