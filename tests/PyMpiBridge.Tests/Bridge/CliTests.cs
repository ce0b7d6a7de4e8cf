using System.CommandLine;
using System.CommandLine.Invocation;
using PyMpiBridge.Hosting;
using PyMpiBridge.Tool;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>The <c>pympi</c> command line (System.CommandLine), parsed in this process: nothing is started.</summary>
public class CliTests
{
    private string _script = "";

    [SetUp]
    public void CreateScript()
    {
        _script = Path.Combine(Path.GetTempPath(), $"pympi-cli-{Guid.NewGuid():N}.py");
        File.WriteAllText(_script, "pass\n");
    }

    [TearDown]
    public void DeleteScript() => File.Delete(_script);

    private static ParseResult Parse(params string[] args) => Cli.Parse(Cli.CreateRoot(), args);

    private static string Errors(ParseResult r) => string.Join("\n", r.Errors.Select(e => e.Message));

    [Test]
    public void Run_OptionsAfterTheScript_AreTheScriptsUntouched_AsWithPython()
    {
        var o = RunOptions.Parse(["-n", "2", _script, "-n", "5", "--help", "--", "@file", "[suggest]", "-m", "x"]);
        Assert.That(o.Ranks, Is.EqualTo(2));
        Assert.That(o.Target.Argv, Is.EqualTo(new[] { _script, "-n", "5", "--help", "--", "@file", "[suggest]", "-m", "x" }));
    }

    [Test]
    public void Run_HelpAfterTheProgram_IsNotPympisHelp_ButBeforeItIs()
    {
        Assert.That(Parse("run", _script, "--help").Action!.GetType().Name, Does.Not.Contain("Help"));
        Assert.That(Parse("run", "-c", "pass", "-h").Action!.GetType().Name, Does.Not.Contain("Help"));
        Assert.That(Parse("run", "--help", _script).Action!.GetType().Name, Does.Contain("Help"));
    }

    [Test]
    public void Run_ModuleAndCode_TakeEveryFollowingWord_IncludingOnesThatLookLikeOptions()
    {
        var m = RunOptions.Parse(["-m", "pkg.tool", "-n", "3", "--", "x"]);
        Assert.That((m.Target.Kind, m.Target.Value, m.Ranks), Is.EqualTo((PythonTargetKind.Module, "pkg.tool", 1)));
        Assert.That(m.Target.Argv, Is.EqualTo(new[] { "-m", "-n", "3", "--", "x" }));

        var c = RunOptions.Parse(["--np", "3", "-c", "print(1)", "--mpi", "mpich"]);
        Assert.That((c.Target.Kind, c.Ranks, c.Flavor), Is.EqualTo((PythonTargetKind.Code, 3, PyMpiBridge.Launching.MpiFlavor.OpenMpi)));
        Assert.That(c.Target.Argv, Is.EqualTo(new[] { "-c", "--mpi", "mpich" }));
    }

    [Test]
    public void Run_DoubleDash_NamesAScriptThatLooksLikeAnOption_AndIsNotPassedOn()
    {
        string dashed = Path.Combine(Path.GetDirectoryName(_script)!, "-" + Path.GetFileName(_script));
        File.Copy(_script, dashed);
        try
        {
            var o = RunOptions.Parse(["-n", "2", "--", dashed, "--", "a"]);
            Assert.That(o.Target.Argv, Is.EqualTo(new[] { dashed, "--", "a" }));
        }
        finally { File.Delete(dashed); }
    }

    [Test]
    public void Run_OptionValuesInEqualsForm_AndMpiexecWordsThatLookLikeOptions()
    {
        var o = RunOptions.Parse(["--timeout=2.5", "--mpiexec-arg", "--bind-to", "--mpiexec-arg=none", "--python=/usr/bin/python3", _script, "a"]);
        Assert.That(o.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        Assert.That(o.MpiexecArguments, Is.EqualTo(new[] { "--bind-to", "none" }));
        Assert.That(o.PythonExecutable, Is.EqualTo("/usr/bin/python3"));
        Assert.That(o.Target.Argv, Is.EqualTo(new[] { _script, "a" }));
    }

    [Test]
    public void ClusterStart_PassesEveryOptionExplicitlyToThePythonSide()
    {
        var r = Parse("cluster", "start", "-n", "3", "--daemon", "--ip", "*", "--location", "10.0.0.2", "--db", "sqlite", "--profile", "p",
                      "--cluster-id", "c1", "--timeout", "30.5");
        Assert.That(Errors(r), Is.Empty);
        Assert.That(ClusterCommand.PythonArguments(r), Is.EqualTo(new[]
        {
            "start", "-n", "3", "--profile", "p", "--cluster-id", "c1", "--ip", "*", "--db", "sqlite", "--timeout", "30.5",
            "--location", "10.0.0.2", "--daemon", "--launcher", "local",
        }));
    }

    [Test]
    public void ClusterStart_SlurmLauncher_PassesTheBatchOptions()
    {
        var r = Parse("cluster", "start", "-n", "4", "--launcher", "slurm", "--sbatch-arg=--time=30", "--sbatch-arg", "--partition=debug");
        Assert.That(Errors(r), Is.Empty);
        Assert.That(ClusterCommand.PythonArguments(r).TakeLast(4), Is.EqualTo(new[]
        {
            "--launcher", "slurm", "--sbatch-arg=--time=30", "--sbatch-arg=--partition=debug",
        }));
    }

    [Test]
    public void ClusterStart_Defaults_AreThoseOfThePythonImplementation()
    {
        var r = Parse("cluster", "start", "--n", "2");
        Assert.That(Errors(r), Is.Empty);
        Assert.That(ClusterCommand.PythonArguments(r), Is.EqualTo(new[]
        {
            "start", "-n", "2", "--profile", "default", "--cluster-id", "", "--ip", "127.0.0.1", "--db", "memory", "--timeout", "120",
            "--launcher", "local",
        }));
    }

    [Test]
    public void ClusterStopAndList_MapToThePythonCommands()
    {
        Assert.That(ClusterCommand.PythonArguments(Parse("cluster", "stop", "--all", "--python", "/usr/bin/python3")), Is.EqualTo(new[]
        {
            "stop", "--profile", "default", "--cluster-id", "", "--timeout", "20", "--all",
        }));
        Assert.That(ClusterCommand.PythonArguments(Parse("cluster", "list")), Is.EqualTo(new[] { "list" }));
    }

    [Test]
    public void ClusterEngines_PassesTheConnectionFileAbsoluteAndRunArgumentsAsMpiArgs()
    {
        var r = Parse("cluster", "engines", "--connect", "ipcontroller-engine.json", "-n", "4", "--location", "node7",
                      "--run-arg", "--hostfile", "--run-arg", "hosts");
        Assert.That(Errors(r), Is.Empty);
        Assert.That(ClusterCommand.PythonArguments(r), Is.EqualTo(new[]
        {
            "engines", "--connect", Path.GetFullPath("ipcontroller-engine.json"), "-n", "4", "--ip", "auto",
            "--location", "node7", "--mpi-arg=--hostfile", "--mpi-arg=hosts",
        }));
    }

    [TestCase(new[] { "cluster", "start" }, "Option '-n' is required.")]
    [TestCase(new[] { "cluster", "start", "-n", "-1" }, "-n needs a number of engines of at least 0, got '-1'.")]
    [TestCase(new[] { "cluster", "engines", "--connect", "f.json", "-n", "0" }, "-n needs a number of engines of at least 1, got '0'.")]
    [TestCase(new[] { "cluster", "engines", "-n", "2" }, "Option '--connect' is required.")]
    [TestCase(new[] { "cluster", "start", "-n", "2", "--db", "redis" }, "--db must be one of memory, sqlite, none; got 'redis'.")]
    [TestCase(new[] { "cluster", "start", "-n", "2", "--launcher", "pbs" }, "--launcher must be one of local, slurm; got 'pbs'.")]
    [TestCase(new[] { "cluster", "start", "-n", "2", "--sbatch-arg=--time=5" }, "--sbatch-arg applies to --launcher slurm only.")]
    [TestCase(new[] { "cluster", "start", "-n", "2", "--timeout", "-1" }, "--timeout needs a positive number of seconds, got '-1'.")]
    [TestCase(new[] { "cluster", "stop", "-n", "2" }, "Unrecognized command or argument '-n'")]
    [TestCase(new[] { "cluster", "list", "--all" }, "Unrecognized command or argument '--all'")]
    [TestCase(new[] { "cluster", "restart" }, "Unrecognized command or argument 'restart'")]
    [TestCase(new[] { "demo", "--mpich" }, "use --mpich with --sweep")]
    [TestCase(new[] { "demo", "-n", "0" }, "-n needs a positive number of ranks, got '0'.")]
    [TestCase(new[] { "bench", "fortran" }, "'fortran'")]
    [TestCase(new[] { "completion", "fish" }, "'fish'")]
    public void BadInput_IsRefusedBeforeAnythingStarts_SayingWhatWasWrong(string[] args, string expected)
    {
        var r = Parse(args);
        Assert.That(r.Action, Is.InstanceOf<ParseErrorAction>());
        Assert.That(Errors(r), Does.Contain(expected));
    }

    [Test]
    public void ReportedErrors_NameTheCommandAndWhereTheUsageIs()
    {
        var error = new StringWriter();
        int code = Cli.ReportErrors(Parse("cluster", "start", "-n", "-1"), error);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain("pympi cluster start: -n needs a number of engines of at least 0, got '-1'."));
        Assert.That(error.ToString(), Does.Contain("Run 'pympi cluster start --help' for usage."));
    }

    [Test]
    public void Bench_PassesTheSuiteAndItsOptionsOnAsTyped()
    {
        var r = Parse("bench", "parallel", "--impl", "ours", "--tasks", "500", "--json", "out.json");
        Assert.That(Errors(r), Is.Empty);
        Assert.That(BenchCommand.BenchmarkArguments(r), Is.EqualTo(new[] { "parallel", "--impl", "ours", "--tasks", "500", "--json", "out.json" }));
    }

    [TestCase("ru", "run")]
    [TestCase("cluster ", "start")]
    [TestCase("cluster start --db ", "sqlite")]
    [TestCase("cluster start -n 2 --d", "--daemon")]
    [TestCase("bench ", "parallel")]
    [TestCase("run -", "--mpiexec-arg")]
    public void Completion_SuggestsFromTheDefinitions(string line, string expected)
    {
        var output = new StringWriter();
        int code = Parse($"[suggest:{line.Length}]", line).Invoke(new InvocationConfiguration { Output = output });
        Assert.That(code, Is.EqualTo(0));
        Assert.That(output.ToString().Split('\n', StringSplitOptions.TrimEntries), Does.Contain(expected));
    }

    [Test]
    public void CompletionScript_AsksTheToolWithTheSuggestDirective()
    {
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try { Assert.That(Parse("completion", "bash").Invoke(), Is.EqualTo(0)); }
        finally { Console.SetOut(saved); }
        Assert.That(output.ToString(), Does.Contain("\"[suggest:${#rest}]\"").And.Contain("complete -o default -o bashdefault -F _pympi_complete pympi"));
    }

    [Test]
    public void Help_IsGeneratedForEveryCommand_AndHidesTheRankCommand()
    {
        var output = new StringWriter();
        Parse("--help").Invoke(new InvocationConfiguration { Output = output });
        foreach (string command in new[] { "run", "cluster", "info", "demo", "bench", "completion" })
            Assert.That(output.ToString(), Does.Match($@"\n  {command}\b"), command);
        Assert.That(output.ToString(), Does.Not.Contain(RunCommand.RankCommandName));

        output = new StringWriter();
        Parse("cluster", "start", "--help").Invoke(new InvocationConfiguration { Output = output });
        Assert.That(output.ToString(), Does.Contain("--db <memory|sqlite|none>").And.Contain("[default: 127.0.0.1]").And.Contain("(REQUIRED)"));
    }
}
