using PyMpiBridge.Hosting;
using PyMpiBridge.Launching;
using PyMpiBridge.Tool;

namespace PyMpiBridge.Tests.Bridge;

public class RunOptionsTests
{
    private string _script = "";

    [SetUp]
    public void CreateScript()
    {
        _script = Path.Combine(Path.GetTempPath(), $"pympi-run-options-{Guid.NewGuid():N}.py");
        File.WriteAllText(_script, "print('hi')\n");
    }

    [TearDown]
    public void DeleteScript() => File.Delete(_script);

    [Test]
    public void Parse_ScriptWithArguments_KeepsArgumentsAfterScriptForPython()
    {
        var o = RunOptions.Parse(["-n", "4", "--python", "/usr/bin/python3", _script, "-n", "7", "--flag"]);
        Assert.That(o.Ranks, Is.EqualTo(4));
        Assert.That(o.PythonExecutable, Is.EqualTo("/usr/bin/python3"));
        Assert.That(o.Target.Kind, Is.EqualTo(PythonTargetKind.Script));
        Assert.That(o.Target.Argv, Is.EqualTo(new[] { _script, "-n", "7", "--flag" }));
    }

    [Test]
    public void Parse_ModuleAndCode_SetArgvLikePython()
    {
        var m = RunOptions.Parse(["-m", "json.tool", "x"]);
        Assert.That(m.Target.Kind, Is.EqualTo(PythonTargetKind.Module));
        Assert.That(m.Target.Value, Is.EqualTo("json.tool"));
        Assert.That(m.Target.Argv, Is.EqualTo(new[] { "-m", "x" }));

        var c = RunOptions.Parse(["-n", "2", "-c", "print(1)", "a"]);
        Assert.That(c.Ranks, Is.EqualTo(2));
        Assert.That(c.Target.Argv, Is.EqualTo(new[] { "-c", "a" }));
        Assert.That(c.Target.ToCommandLine(), Is.EqualTo(new[] { "-c", "print(1)", "a" }));
    }

    [Test]
    public void Parse_MpiexecArgsFlavorAndTimeout_AreCollected()
    {
        var o = RunOptions.Parse(["--mpiexec-arg", "--bind-to", "--mpiexec-arg", "none", "--mpi", "mpich", "--timeout", "30", _script]);
        Assert.That(o.MpiexecArguments, Is.EqualTo(new[] { "--bind-to", "none" }));
        Assert.That(o.Flavor, Is.EqualTo(MpiFlavor.Mpich));
        Assert.That(o.Timeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void Parse_HostfileAndLaunchAgent_BecomeEachLaunchersWords()
    {
        string hostfile = _script + ".hosts";
        File.WriteAllText(hostfile, "# two nodes\nnode1 slots=2\nnode2 slots=2  # the second\n");
        try
        {
            var o = RunOptions.Parse(["-n", "4", "--hostfile", hostfile, "--launch-agent", "/opt/site/rsh-wrapper", _script]);
            Assert.That(o.Hosts.Hostfile, Is.EqualTo(Path.GetFullPath(hostfile)));
            Assert.That(o.Hosts.MpiexecArguments(MpiFlavor.OpenMpi),
                Is.EqualTo(new[] { "--hostfile", Path.GetFullPath(hostfile), "--mca", "plm_rsh_agent", "/opt/site/rsh-wrapper" }));
            Assert.That(o.Hosts.MpiexecArguments(MpiFlavor.Mpich),
                Is.EqualTo(new[] { "-f", Path.GetFullPath(hostfile), "-launcher", "ssh", "-launcher-exec", "/opt/site/rsh-wrapper" }));
            Assert.That(RunOptions.Parse([_script]).Hosts.IsDefault, Is.True);
        }
        finally { File.Delete(hostfile); }
    }

    [TestCase("openmpi", "node1:2\n", "is MPICH's syntax; Open MPI reads 'host slots=N'")]
    [TestCase("mpich", "node1 slots=2\n", "is Open MPI's syntax; MPICH reads 'host:slots'")]
    [TestCase("openmpi", "# nothing but a comment\n\n", "names no host")]
    public void Parse_HostfileInTheOtherLaunchersSyntaxOrEmpty_IsRefusedWithTheFix(string mpi, string content, string expected)
    {
        string hostfile = _script + ".hosts";
        File.WriteAllText(hostfile, content);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--mpi", mpi, "--hostfile", hostfile, _script]));
            Assert.That(e!.Message, Does.Contain(expected));
        }
        finally { File.Delete(hostfile); }
    }

    [Test]
    public void Parse_MissingHostfile_IsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--hostfile", "/no/such/hosts", _script]));
        Assert.That(e!.Message, Does.Contain("hostfile '/no/such/hosts' does not exist"));
    }

    [Test]
    public void Parse_HostfileWithIpv6Addresses_IsOpenMpisSyntax()
    {
        string hostfile = _script + ".hosts";
        File.WriteAllText(hostfile, "fd00::1 slots=2\nfd00::2\n");
        try { Assert.That(RunOptions.Parse(["--hostfile", hostfile, _script]).Hosts.Hostfile, Is.Not.Null); }
        finally { File.Delete(hostfile); }
    }

    [TestCase(new[] { "-n", "0", "x.py" }, "positive number of ranks")]
    [TestCase(new[] { "-n" }, "Required argument missing for option: '-n'")]
    [TestCase(new[] { "-np", "two", "x.py" }, "-np needs a positive number of ranks, got 'two'")]
    [TestCase(new[] { "--timeout", "0", "x.py" }, "--timeout needs a positive number of seconds, got '0'")]
    [TestCase(new[] { "--mpi", "lam", "x.py" }, "--mpi must be openmpi or mpich")]
    [TestCase(new[] { "--bogus", "x.py" }, "unknown option '--bogus'")]
    [TestCase(new[] { "-n", "2" }, "nothing to run")]
    [TestCase(new[] { "/no/such/script.py" }, "does not exist")]
    public void Parse_BadInput_SaysWhatWasWrong(string[] args, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RunOptions.Parse(args));
        Assert.That(e!.Message, Does.Contain(expected));
    }
}
