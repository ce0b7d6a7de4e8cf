using System.Diagnostics;
using System.Text.RegularExpressions;
using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>The mixed-language examples run to completion and compute what they claim.</summary>
public partial class ExampleTests
{
    private static string Built(string project) =>
        Path.Combine(ScenarioRun.RepoRoot(), "artifacts", "bin", project, "release", project + ".dll");

    private static Task<MpiJobResult> Launch(int ranks, params string[] args) =>
        InTime.Job(MpiLauncher.RunAsync(ranks, "dotnet", args, ScenarioRun.Timeout, MpiFlavor.OpenMpi, new Dictionary<string, string> { ["TERM"] = "dumb" }));

    private static string Describe(MpiJobResult job) => $"exit {job.ExitCode}\n{job.Stdout}\n{job.Stderr}";

    [Test]
    public async Task MixedDemo_OnFourRanks_SharesMemoryAndCommunicatorBetweenLanguages()
    {
        var job = await Launch(4, Built("MixedDemo"));
        Assert.That(job.TimedOut, Is.False, Describe(job));
        Assert.That(job.ExitCode, Is.EqualTo(0), Describe(job));
        Assert.That(job.Stdout, Does.Contain("largest difference between numpy's peak and C#'s read of the same array: 0"), Describe(job));
        Assert.That(job.Stdout, Does.Contain("total steps via C# Allreduce = 96,000, via mpi4py allreduce = 96,000"), Describe(job));
        Assert.That(job.Stdout, Does.Contain("received 16 peaks from Python on rank 3").And.Contain("(matches its row above: True)"), Describe(job));
        Assert.That(job.StdoutLines.Count(l => RankRow().IsMatch(l)), Is.EqualTo(4), Describe(job));
    }

    [TestCase(1)]
    [TestCase(4)]
    public async Task PythonDriverWithCSharpKernel_ConservesHeatOnAnyRankCount(int ranks)
    {
        string script = Path.Combine(ScenarioRun.RepoRoot(), "examples", "python", "heat_with_csharp_kernel.py");
        int cellsPerRank = 400 / ranks;
        var job = await Launch(ranks, ScenarioRun.PympiDll,
            "__rank", script, cellsPerRank.ToString(), "50");
        Assert.That(job.ExitCode, Is.EqualTo(0), Describe(job));
        Assert.That(job.Stdout, Does.Contain("heat conserved: 1000.000000 -> 1000.000000"), Describe(job));
        // The same global problem gives the same answer whatever the decomposition.
        Assert.That(job.Stdout, Does.Contain("sum of squares 56348.479009"), Describe(job));
    }

    [Test]
    public async Task CSharpHost_RunsScipyStepOnSharedArraysEveryIteration()
    {
        var job = await Launch(2, Built("GrayScottHost"), "48", "400");
        Assert.That(job.ExitCode, Is.EqualTo(0), Describe(job));
        Assert.That(job.Stdout, Does.Contain("Laplacian by scipy.ndimage on C# arrays, reaction in C#"), Describe(job));
        // Different feed rates give different patterns: the ranks really ran their own parameter.
        var means = MeanV().Matches(job.Stdout).Select(m => m.Groups[1].Value).ToArray();
        Assert.That(means, Has.Length.EqualTo(2).And.Unique, Describe(job));
        Assert.That(job.Stderr, Does.Contain("[rank 1] info PyMpiBridge.Rank: step 400/400"), "progress is logged with the rank");
    }

    [Test]
    public async Task NumbaVectorSum_DrivenFromCSharp_MatchesCSharpReductionAndClosedForm()
    {
        var job = await Launch(4, Built("NumbaVectorSum"), "1000000");
        Assert.That(job.ExitCode, Is.EqualTo(0), Describe(job));
        Assert.That(job.Stdout, Does.Contain("numba local sums + mpi4py allreduce: 499999500000"), Describe(job));
        Assert.That(job.Stdout, Does.Contain("closed form n(n-1)/2:                499999500000"), Describe(job));
    }

    [Test]
    public async Task DataFrameAnalytics_OnFourRanks_GroupsCSharpRowsWithPandas_AndCombinesTheStatisticsInCSharp()
    {
        var job = await Launch(4, Built("DataFrameAnalytics"), "40000");
        Assert.That(job.ExitCode, Is.EqualTo(0), Describe(job));
        Assert.That(job.Stdout, Does.Contain("rank 0: made 40,000 sales rows in C# (4 columns, 800 without a quantity)"), Describe(job));
        foreach (int r in new[] { 1, 2, 3 })
            Assert.That(job.Stdout, Does.Contain($"rank {r}: pandas grouped 10,000 rows it received from C#"), Describe(job));
        Assert.That(job.Stdout, Does.Contain("rank 0: 39,200 orders in 5 regions; revenue matches C#'s own sum per region: True"), Describe(job));
    }

    [GeneratedRegex(@"mean V ([0-9.]+)$", RegexOptions.Multiline)]
    private static partial Regex MeanV();

    [GeneratedRegex(@"^\s+[0-3]\s+16\s")]
    private static partial Regex RankRow();
}
