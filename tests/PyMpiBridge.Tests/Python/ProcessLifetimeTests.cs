using System.Diagnostics;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Python;

/// <summary>Start-up and shutdown in a fresh process (one interpreter per process: the test process's is shared).</summary>
public class ProcessLifetimeTests
{
    private static readonly string ScenarioHost = Path.Combine(
        AppContext.BaseDirectory, "..", "..", "ScenarioHost", "release", "PyMpiBridge.ScenarioHost.dll");

    private static async Task<(int ExitCode, string Output)> RunScenarioAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.GetFullPath(ScenarioHost));
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("PYMPI_PYTHON");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await InTime.Exit(process, TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
    }

    [TestCase("main")]
    [TestCase("thread")]
    [TestCase("exit")]
    public async Task EndingTheProcess_FlushesPythonOutputJoinsThreadsAndRunsAtexitWithoutHanging(string mode)
    {
        var (exitCode, output) = await RunScenarioAsync("python-exit", mode);
        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Contain("buffered output").And.Contain("non-daemon thread finished").And.Contain("atexit ran"));
        if (mode != "exit") Assert.That(output, Does.Contain("after shutdown: Python has been shut down"));
    }

    [Test]
    public async Task VirtualEnvironment_IsEmbeddedWithItsSitePackagesAndPthFiles()
    {
        string venv = Path.Combine(Path.GetTempPath(), "pympi-venv-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var make = Process.Start("/usr/bin/python3", ["-m", "venv", "--without-pip", "--system-site-packages", venv])!;
            Assert.That(make.WaitForExit(60_000) && make.ExitCode == 0, Is.True, "python3 -m venv failed");
            string site = Directory.GetDirectories(Path.Combine(venv, "lib"), "python3*")[0] + "/site-packages";
            File.WriteAllText(Path.Combine(site, "venv_only.py"), "VALUE = 'from venv'\n");
            string extra = Directory.CreateDirectory(Path.Combine(venv, "extra")).FullName;
            File.WriteAllText(Path.Combine(extra, "pth_only.py"), "VALUE = 'from pth'\n");
            File.WriteAllText(Path.Combine(site, "extra.pth"), extra + "\n");

            var (exitCode, output) = await RunScenarioAsync("python-venv", Path.Combine(venv, "bin", "python"));
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Contain($"\"prefix\": \"{venv}\""));
            Assert.That(output, Does.Contain("\"venv_module\": \"from venv\"").And.Contain("\"pth_module\": \"from pth\""));
            Assert.That(output, Does.Contain("\"numpy\": "), "system site-packages still visible");
        }
        finally
        {
            if (Directory.Exists(venv)) Directory.Delete(venv, recursive: true);
        }
    }

    [Test]
    public async Task FirstGilOnAPoolThread_DoesNotMakeThatThreadPythonsMainThread()
    {
        var (exitCode, output) = await RunScenarioAsync("python-first-use-on-pool-thread");
        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Contain("pool thread is main: False"));
        Assert.That(output, Does.Contain("later calls: 42"));
    }
}
