using System.Diagnostics;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>The C# examples of the parallel layer run from start to finish, compute what they print, and stop their cluster.</summary>
[TestFixture, NonParallelizable]
public sealed class ParallelExampleTests
{
    private static async Task<string> RunExampleAsync(string name, string[] args, CancellationToken cancellationToken)
    {
        string dll = Path.Combine(ScenarioRun.RepoRoot(), "artifacts", "bin", name, "release", $"{name}.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])[dll, .. args]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await p.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        string output = await stdout + await stderr;
        Assert.That(p.ExitCode, Is.EqualTo(0), output);
        return output;
    }

    [Test, CancelAfter(120_000)]
    public async Task ParallelClientStartsClusterScattersAppliesGathersAndStops(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        string output = await RunExampleAsync("ParallelClient", ["2", "10000"], cancellationToken);
        Assert.That(output, Does.Contain("engines: 0, 1"));
        Assert.That(output, Does.Contain("smoothed 10,000 values on 2 engines").And.Contain("(agree: True)"));
        Assert.That(output, Does.Contain("engine 1 raised ZeroDivisionError: division by zero"));
        Assert.That(Directory.EnumerateFiles(dir.Path, "*-client.json", SearchOption.AllDirectories), Is.Empty, "the cluster stopped");
    }

    [Test, CancelAfter(180_000)]
    public async Task ParallelSweepSplitsTheGridBetweenCSharpAndNumpyAndAgreesWithTheExactAmplitude(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        string output = await RunExampleAsync("ParallelSweep", ["2", "4", "6"], cancellationToken);
        Assert.That(output, Does.Contain("4 dampings x 6 drive frequencies = 24 jobs on engines 0, 1"));
        Assert.That(output, Does.Match(@"all 24 amplitudes within 0\.\d\d % of the exact"), "every amplitude within 1 % of the formula");
        Assert.That(output, Does.Match(@"C# jobs\s+: 12 done in 12 tasks on engines 0, 1; Elapsed [\d.]+ s, SerialTime [\d.]+ s, WallTime"));
        Assert.That(output, Does.Match(@"numpy rows\s+: 2 done in 2 tasks"));
        Assert.That(Directory.EnumerateFiles(dir.Path, "*-client.json", SearchOption.AllDirectories), Is.Empty, "the cluster stopped");
    }
}
