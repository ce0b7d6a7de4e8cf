using PyMpiBridge.Launching;

namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>
/// The C# side of <c>pympi bench mpi</c> runs on 2 ranks and prints one well-formed record per
/// measurement. Checks what is measured, never how fast (speed belongs to the benchmark itself).
/// </summary>
public class MpiBenchWorkerTests
{
    [Test]
    public async Task Worker_OnTwoRanks_PrintsEveryPingPongAndAllreduceMeasurementOnce()
    {
        Assert.That(File.Exists(BuiltPrograms.BenchmarksDll), Is.True, $"{BuiltPrograms.BenchmarksDll} is not built");
        var job = await MpiLauncher.RunAsync(2, "dotnet", [BuiltPrograms.BenchmarksDll, BenchWorkerCommand.Name, "mpi", "--repeats", "1"], BuiltPrograms.Timeout,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        string output = $"exit {job.ExitCode}\n{job.Stdout}\n{job.Stderr}";
        Assert.That(job.TimedOut, Is.False, output);
        Assert.That(job.ExitCode, Is.EqualTo(0), output);

        var records = BenchRecordLines.Parse(job.StdoutLines, "csharp");
        long[] pingPongSizes = [8, 1 << 10, 64 << 10, 1 << 20, 16 << 20];
        long[] allreduceSizes = Enumerable.Range(0, 11).Select(k => 8L << (2 * k)).ToArray();
        var expected = pingPongSizes.Select(s => ("pingpong", "latency_us", s))
            .Concat(pingPongSizes.Where(s => s >= 1024).Select(s => ("pingpong", "bandwidth_MBps", s)))
            .Concat(allreduceSizes.Select(s => ("allreduce", "latency_us", s)));
        Assert.That(records.Select(r => (r.Name, r.Metric, r.SizeBytes)), Is.EquivalentTo(expected), output);
    }

    [Test]
    public async Task Worker_OnThreeRanks_RefusesWithAMessageAndNonZeroExit()
    {
        var job = await MpiLauncher.RunAsync(3, "dotnet", [BuiltPrograms.BenchmarksDll, BenchWorkerCommand.Name, "mpi", "--repeats", "1"], BuiltPrograms.Timeout,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Contain("exactly 2 ranks"));
    }
}
