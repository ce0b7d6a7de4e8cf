using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

/// <summary>
/// The discovery probe's answer is remembered per interpreter, used only while nothing it depends on changed, and
/// never able to make discovery fail.
/// </summary>
[NonParallelizable]
public class ProbeCacheTests
{
    private string _dir = "";

    [SetUp]
    public void UseTemporaryCache()
    {
        _dir = Directory.CreateTempSubdirectory("pympi-probe-cache").FullName;
        PythonProbeCache.DirectoryOverride = _dir;
    }

    [TearDown]
    public void RestoreCache()
    {
        PythonProbeCache.DirectoryOverride = null;
        Environment.SetEnvironmentVariable(PythonProbeCache.DisableVariable, null);
        Directory.Delete(_dir, recursive: true);
    }

    private static PythonInterpreter LocateSystem() => PythonDiscovery.Locate(new PythonOptions { PythonExecutable = "/usr/bin/python3" });

    private static string Entry => PythonProbeCache.EntryPath("/usr/bin/python3")!;

    [Test]
    public void Locate_StoresTheAnswerAndTheNextLocateGivesTheSameInterpreter()
    {
        var first = LocateSystem();
        Assert.That(File.Exists(Entry), Is.True, "the accepted answer was not remembered");
        var second = LocateSystem();
        Assert.That(second.LibraryPath, Is.EqualTo(first.LibraryPath));
        Assert.That(second.SysPath, Is.EqualTo(first.SysPath));
        Assert.That((second.Version, second.NumpyVersion, second.Prefix, second.BasePrefix),
            Is.EqualTo((first.Version, first.NumpyVersion, first.Prefix, first.BasePrefix)));
    }

    [Test]
    public void Locate_WithAValidEntry_UsesItInsteadOfStartingTheInterpreter()
    {
        LocateSystem();
        // Mark the entry: only an answer read from the cache can carry this numpy version.
        File.WriteAllLines(Entry, File.ReadAllLines(Entry).Select(l => l.StartsWith("numpy\t") ? "numpy\t0.0-from-cache" : l));
        Assert.That(LocateSystem().NumpyVersion, Is.EqualTo("0.0-from-cache"));
    }

    [Test]
    public void Entries_OfJobsWithDifferentPythonPaths_DoNotReplaceEachOther()
    {
        string? saved = Environment.GetEnvironmentVariable("PYTHONPATH");
        try
        {
            Environment.SetEnvironmentVariable("PYTHONPATH", "/tmp/pympi-job-a");
            string a = Entry;
            LocateSystem();
            Environment.SetEnvironmentVariable("PYTHONPATH", "/tmp/pympi-job-b");
            string b = Entry;
            LocateSystem();
            Assert.That(b, Is.Not.EqualTo(a));
            Assert.That(File.Exists(a) && File.Exists(b), "one job's answer replaced the other's");
        }
        finally
        {
            Environment.SetEnvironmentVariable("PYTHONPATH", saved);
        }
    }

    [Test]
    public void Entry_WhenAWatchedDirectoryChanges_IsNotUsed()
    {
        string watched = Directory.CreateTempSubdirectory("pympi-watched").FullName;
        try
        {
            var info = new PythonDiscovery.ProbeResult { Version = "3.11.2", Numpy = "1.0", Path = [watched] };
            PythonProbeCache.Store("/usr/bin/python3", info, [watched]);
            Assert.That(PythonProbeCache.TryLoad("/usr/bin/python3")?.Numpy, Is.EqualTo("1.0"));

            Directory.SetLastWriteTimeUtc(watched, DateTime.UtcNow.AddMinutes(-5)); // what installing a package does to site-packages
            Assert.That(PythonProbeCache.TryLoad("/usr/bin/python3"), Is.Null);
        }
        finally { Directory.Delete(watched, recursive: true); }
    }

    [Test]
    public void Entry_WhenPythonPathChanges_IsNotUsed()
    {
        PythonProbeCache.Store("/usr/bin/python3", new PythonDiscovery.ProbeResult { Version = "3.11.2", Numpy = "1.0" }, []);
        string? saved = Environment.GetEnvironmentVariable("PYTHONPATH");
        try
        {
            Environment.SetEnvironmentVariable("PYTHONPATH", "/somewhere/else");
            Assert.That(PythonProbeCache.TryLoad("/usr/bin/python3"), Is.Null);
        }
        finally { Environment.SetEnvironmentVariable("PYTHONPATH", saved); }
    }

    [Test]
    public void CorruptEntry_IsIgnoredAndReplacedByAFreshAnswer()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Entry, "pympibridge python probe v1\nnot a field line\n\u0000garbage");
        var interpreter = LocateSystem();
        Assert.That(interpreter.NumpyVersion, Is.Not.Null);
        Assert.That(PythonProbeCache.TryLoad("/usr/bin/python3")?.Numpy, Is.EqualTo(interpreter.NumpyVersion));
    }

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void InterpreterWithoutNumpy_IsNotRemembered()
    {
        string fake = Path.Combine(_dir, "python-without-numpy");
        File.WriteAllText(fake, "#!/bin/sh\nexec /usr/bin/python3 -S -I \"$@\"\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var interpreter = PythonDiscovery.Locate(new PythonOptions { PythonExecutable = fake });
        Assert.That(interpreter.NumpyVersion, Is.Null);
        Assert.That(File.Exists(PythonProbeCache.EntryPath(fake)!), Is.False, "a rejected or numpy-less answer must be probed again next time");
    }

    [TestCase("0")]
    [TestCase("off")]
    public void DisabledByEnvironment_WritesNoEntry(string value)
    {
        Environment.SetEnvironmentVariable(PythonProbeCache.DisableVariable, value);
        LocateSystem();
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
        Assert.That(PythonProbeCache.EntryPath("/usr/bin/python3"), Is.Null);
    }
}
