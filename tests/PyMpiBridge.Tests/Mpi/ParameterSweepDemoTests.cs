using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>The `make demo` job (examples/csharp/ParameterSweep) runs to completion on 4 ranks and reports every job.</summary>
[TestFixture(MpiFlavor.OpenMpi)]
[TestFixture(MpiFlavor.Mpich)]
public class ParameterSweepDemoTests(MpiFlavor flavor)
{
    [Test]
    public async Task Sweep_OnFourRanks_GathersEveryJobAndMatchesExactAmplitudes()
    {
        string dll = Path.Combine(ScenarioRun.RepoRoot(), "artifacts", "bin", "ParameterSweep", "release", "ParameterSweep.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built");
        var job = await InTime.Job(MpiLauncher.RunAsync(4, "dotnet", [dll], ScenarioRun.Timeout, flavor,
            new Dictionary<string, string> { ["TERM"] = "dumb" }));
        string output = $"exit {job.ExitCode}\n{job.Stdout}\n{job.Stderr}";
        Assert.That(job.TimedOut, Is.False, output);
        Assert.That(job.ExitCode, Is.EqualTo(0), output);
        Assert.That(job.Stdout, Does.Contain("Jobs gathered: 288/288"), output);
        Assert.That(job.Stdout, Does.Contain(flavor == MpiFlavor.Mpich ? "MPI: Mpich" : "MPI: OpenMpi"), output);
        // Four per-rank rows with 72 jobs each.
        Assert.That(job.StdoutLines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+[0-3]\s+72\s")), Is.EqualTo(4), output);
        var deviation = System.Text.RegularExpressions.Regex.Match(job.Stdout, @"worst deviation from the exact amplitude: ([0-9.]+) %");
        Assert.That(deviation.Success && double.Parse(deviation.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 0.5, Is.True, output);
    }
}
