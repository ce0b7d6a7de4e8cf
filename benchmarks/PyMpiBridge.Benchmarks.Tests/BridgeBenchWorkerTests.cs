using PyMpiBridge.Launching;

namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>
/// The in-rank side of <c>pympi bench bridge</c> (C# rank 0, Python rank 1 in one job) runs on 2 ranks and prints
/// every measurement of each implementation once. Checks what is measured, never how fast.
/// </summary>
public class BridgeBenchWorkerTests
{
    [Test]
    public async Task Worker_OnTwoRanks_PrintsThePingPongOfCSharpAgainstPythonAndTheHandOffsBesideMemcpy()
    {
        Assert.That(File.Exists(BuiltPrograms.BenchmarksDll), Is.True, $"{BuiltPrograms.BenchmarksDll} is not built");
        var job = await MpiLauncher.RunAsync(2, "dotnet", [BuiltPrograms.BenchmarksDll, BenchWorkerCommand.Name, "bridge", "--repeats", "1"], BuiltPrograms.Timeout,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb", ["PYMPI_HOME"] = RepoLayout.FindRoot() });
        string output = $"exit {job.ExitCode}\n{job.Stdout}\n{job.Stderr}";
        Assert.That(job.TimedOut, Is.False, output);
        Assert.That(job.ExitCode, Is.EqualTo(0), output);

        var records = BenchRecordLines.Parse(job.StdoutLines, "csharp-python", ["csharp", "memcpy"]);
        long[] pingPongSizes = [8, 1 << 10, 64 << 10, 1 << 20, 16 << 20];
        var expectedPingPong = pingPongSizes.Select(s => ("pingpong", "csharp-python", "latency_us", s))
            .Concat(pingPongSizes.Where(s => s >= 1024).Select(s => ("pingpong", "csharp-python", "bandwidth_MBps", s)));
        var expectedArrays = new long[] { 8, 1 << 20, 64 << 20 }
            .SelectMany(s => new[] { ("array_to_numpy", "csharp", "us", s), ("array_to_numpy", "memcpy", "us", s) });
        Assert.That(records.Select(r => (r.Name, r.Impl, r.Metric, r.SizeBytes)), Is.EquivalentTo(expectedPingPong.Concat(expectedArrays)), output);
    }

    [Test]
    public async Task HostedMpi4pyBench_PingPongOnly_PrintsOnlyPingPongRecordsUnderTheHost()
    {
        string script = Path.Combine(RepoLayout.FindRoot(), "benchmarks", "python", "mpi4py_bench.py");
        var job = await MpiLauncher.RunAsync(2, "dotnet", [BuiltPrograms.PympiDll, RepoLayout.PympiRankCommand, script, "--repeats", "1", "--pingpong-only"], BuiltPrograms.Timeout,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        string output = $"exit {job.ExitCode}\n{job.Stdout}\n{job.Stderr}";
        Assert.That(job.ExitCode, Is.EqualTo(0), output);
        var records = BenchRecordLines.Parse(job.StdoutLines, "mpi4py");
        Assert.That(records, Has.Count.EqualTo(9), output);
        Assert.That(records.Select(r => r.Name).Distinct(), Is.EqualTo(new[] { "pingpong" }));
    }

    [Test]
    public async Task Worker_OnThreeRanks_RefusesWithAMessageAndNonZeroExit()
    {
        var job = await MpiLauncher.RunAsync(3, "dotnet", [BuiltPrograms.BenchmarksDll, BenchWorkerCommand.Name, "bridge", "--repeats", "1"], BuiltPrograms.Timeout,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Contain("exactly 2 ranks"));
    }
}
