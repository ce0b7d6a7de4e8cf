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

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void DefaultSearch_SkipsInterpretersWithoutNumpyAndExplainsWhy()
    {
        string? savedPath = Environment.GetEnvironmentVariable("PATH");
        string? savedEnv = Environment.GetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable);
        string dir = Directory.CreateTempSubdirectory("pympi-fake-python").FullName;
        try
        {
            // A python3 first on PATH that cannot import numpy (like the pyenv one on these machines).
            string fake = Path.Combine(dir, "python3");
            File.WriteAllText(fake, "#!/bin/sh\nexec /usr/bin/python3 -S -I \"$@\"\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            Environment.SetEnvironmentVariable("PATH", dir + ":" + savedPath);
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, null);
            var interpreter = PythonDiscovery.Locate();
            Assert.That(interpreter.Executable, Is.EqualTo("/usr/bin/python3"));
            Assert.That(interpreter.Source, Is.EqualTo("default"));
            Assert.That(interpreter.NumpyVersion, Is.Not.Null);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", savedPath);
            Environment.SetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable, savedEnv);
            Directory.Delete(dir, recursive: true);
        }
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
