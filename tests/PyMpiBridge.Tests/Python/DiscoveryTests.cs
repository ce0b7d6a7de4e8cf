using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

[NonParallelizable]
public class DiscoveryTests
{
    [Test]
    public void ExplicitBadPath_ListsWhatWasTriedAndWhatToDo()
    {
        var e = Assert.Throws<PythonNotFoundException>(() =>
            PythonDiscovery.Locate(new PythonOptions { PythonExecutable = "/nonexistent/bin/python3" }))!;
        Assert.That(e.Candidates, Has.Count.EqualTo(1));
        Assert.That(e.Message, Does.Contain("/nonexistent/bin/python3").And.Contain("does not exist"));
        Assert.That(e.Message, Does.Contain("PythonOptions.PythonExecutable"));
        Assert.That(e.Message, Does.Contain("apt-get install libpython3-dev python3-numpy").And.Contain("PYMPI_PYTHON="));
    }

    [Test]
    public void EnvironmentVariableNamingANonPython_IsRejectedWithItsOutput()
    {
        string? saved = Environment.GetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, "/bin/echo");
            var e = Assert.Throws<PythonNotFoundException>(() => PythonDiscovery.Locate())!;
            Assert.That(e.Message, Does.Contain("/bin/echo").And.Contain("PYMPI_PYTHON"));
            Assert.That(e.Message, Does.Contain("did not answer like a Python interpreter"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, saved);
        }
    }

    [Test]
    public void NonExecutableFile_IsRejectedAsNotExecutable()
    {
        string file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<PythonNotFoundException>(() => PythonDiscovery.Locate(new PythonOptions { PythonExecutable = file }))!;
            Assert.That(e.Candidates.Single().RejectedBecause, Does.Contain("cannot be executed"));
        }
        finally { File.Delete(file); }
    }

    /// <summary>Runs discovery's default search with a fake "system" python and a PATH of our choice.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static T WithDefaults<T>(bool pathPythonHasNumpy, Func<T> locate)
    {
        string? savedPath = Environment.GetEnvironmentVariable("PATH");
        string? savedEnv = Environment.GetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable);
        string dir = Directory.CreateTempSubdirectory("pympi-fake-python").FullName;
        try
        {
            // An interpreter that cannot import numpy (like the pyenv python3 first on PATH on these machines).
            string noNumpy = Path.Combine(dir, "python-without-numpy");
            File.WriteAllText(noNumpy, "#!/bin/sh\nexec /usr/bin/python3 -S -I \"$@\"\n");
            File.SetUnixFileMode(noNumpy, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            string bin = Directory.CreateDirectory(Path.Combine(dir, "bin")).FullName;
            if (pathPythonHasNumpy) File.CreateSymbolicLink(Path.Combine(bin, "python3"), "/usr/bin/python3");
            else
            {
                File.Copy(noNumpy, Path.Combine(bin, "python3"));
                File.SetUnixFileMode(Path.Combine(bin, "python3"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
            }
            PythonDiscovery.SystemPythonPath = noNumpy;
            Environment.SetEnvironmentVariable("PATH", bin + ":" + savedPath);
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, null);
            return locate();
        }
        finally
        {
            PythonDiscovery.SystemPythonPath = PythonDiscovery.SystemPython;
            Environment.SetEnvironmentVariable("PATH", savedPath);
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, savedEnv);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void DefaultSearch_SkipsAnInterpreterWithoutNumpyAndSaysWhy()
    {
        var interpreter = WithDefaults(pathPythonHasNumpy: true, () => PythonDiscovery.Locate());
        Assert.That(interpreter.Source, Is.EqualTo("first python3 on PATH"));
        Assert.That(interpreter.NumpyVersion, Is.Not.Null);
        Assert.That(interpreter.Candidates, Has.Count.EqualTo(2));
        Assert.That(interpreter.Candidates[0].RejectedBecause, Does.Contain("cannot import numpy").And.Contain("ModuleNotFoundError"));
        Assert.That(interpreter.Candidates[1].RejectedBecause, Is.Null);
    }

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void DefaultSearch_WhenNothingFits_ListsEveryCandidateWithItsReason()
    {
        var e = WithDefaults(pathPythonHasNumpy: false, () => Assert.Throws<PythonNotFoundException>(() => PythonDiscovery.Locate()))!;
        Assert.That(e.Candidates, Has.Count.EqualTo(2));
        Assert.That(e.Candidates.Select(c => c.Source), Is.EqualTo(new[] { "default", "first python3 on PATH" }));
        Assert.That(e.Candidates, Has.All.Matches<PythonCandidate>(c => c.RejectedBecause!.Contains("cannot import numpy")));
        Assert.That(e.Message, Does.Contain("python-without-numpy").And.Contain("apt-get install"));
    }

    [Test]
    public void VirtualEnvironment_ReportsItsPrefixAndSitePackages()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pympi-venv-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var make = System.Diagnostics.Process.Start("/usr/bin/python3", ["-m", "venv", "--without-pip", "--system-site-packages", dir])!;
            Assert.That(make.WaitForExit(60_000), Is.True);
            Assert.That(make.ExitCode, Is.Zero, "python3 -m venv failed (apt-get install python3-venv)");
            var interpreter = PythonDiscovery.Locate(new PythonOptions { PythonExecutable = Path.Combine(dir, "bin", "python") });
            Assert.That(interpreter.Prefix, Is.EqualTo(dir));
            Assert.That(interpreter.BasePrefix, Is.EqualTo("/usr"));
            Assert.That(interpreter.SysPath, Has.Some.StartsWith(dir).And.Some.EndsWith("site-packages"));
            Assert.That(interpreter.LibraryPath, Does.Contain("libpython3"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
