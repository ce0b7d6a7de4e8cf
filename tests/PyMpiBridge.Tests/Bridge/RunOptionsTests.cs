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
