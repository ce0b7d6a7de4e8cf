using System.Diagnostics;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>examples/csharp/ParallelClient runs from start to finish and computes what it prints.</summary>
[TestFixture, NonParallelizable]
public sealed class ParallelClientExampleTests
{
    [Test, CancelAfter(120_000)]
    public async Task ExampleStartsClusterScattersAppliesGathersAndStops(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        string dll = Path.Combine(ScenarioRun.RepoRoot(), "artifacts", "bin", "ParallelClient", "release", "ParallelClient.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "2", "10000" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        string output = await stdout + await stderr;
        Assert.That(p.ExitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("engines: 0, 1"));
        Assert.That(output, Does.Contain("smoothed 10,000 values on 2 engines").And.Contain("(agree: True)"));
        Assert.That(output, Does.Contain("engine 1 raised ZeroDivisionError: division by zero"));
        Assert.That(Directory.EnumerateFiles(dir.Path, "*-client.json", SearchOption.AllDirectories), Is.Empty, "the cluster stopped");
    }
}
