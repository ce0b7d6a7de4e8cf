using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary><c>pympi run</c>: unmodified mpi4py programs on N ranks under the .NET host.</summary>
public class PympiRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private string _dir = "";

    [OneTimeSetUp]
    public void WriteScripts()
    {
        _dir = Directory.CreateTempSubdirectory("pympi-run-tests").FullName;
        File.WriteAllText(Path.Combine(_dir, "hello.py"), """
            import os, sys
            from mpi4py import MPI
            c = MPI.COMM_WORLD
            total = c.allreduce(c.rank)
            launcher = "mpiexec" if "OMPI_COMM_WORLD_SIZE" in os.environ else "none"
            print(f"rank {c.rank} of {c.size} argv={sys.argv[1:]} main={__name__} total={total} launcher={launcher}")
            """);
        File.WriteAllText(Path.Combine(_dir, "crash.py"), """
            from mpi4py import MPI
            c = MPI.COMM_WORLD
            def deeper(): raise ValueError(f"boom on rank {c.rank}")
            def outer(): deeper()
            if c.rank == 1:
                outer()
            c.Barrier()          # the other ranks wait here: the abort must end them
            print("unreachable")
            """);
        File.WriteAllText(Path.Combine(_dir, "exit3.py"), """
            import sys
            from mpi4py import MPI
            if MPI.COMM_WORLD.rank == 0:
                sys.exit(3)
            MPI.COMM_WORLD.Barrier()
            """);
        Directory.CreateDirectory(Path.Combine(_dir, "pkg"));
        File.WriteAllText(Path.Combine(_dir, "pkg", "__init__.py"), "");
        File.WriteAllText(Path.Combine(_dir, "pkg", "tool.py"), """
            import sys
            from mpi4py import MPI
            print(f"module rank {MPI.COMM_WORLD.rank} main={__name__} argv0={sys.argv[0].endswith('tool.py')} rest={sys.argv[1:]}")
            """);
    }

    [OneTimeTearDown]
    public void DeleteScripts() => Directory.Delete(_dir, recursive: true);

    private Task<MpiJobResult> Pympi(params string[] args)
        => InTime.Job(MpiLauncher.RunAsync(ScenarioRun.OutsideLauncher(ScenarioRun.PympiDll, ["run", .. args], _dir), Timeout));

    private static void AssertExit(MpiJobResult job, int expected)
    {
        Assert.That(job.TimedOut, Is.False, $"timed out\n{job.Stdout}\n{job.Stderr}");
        Assert.That(job.ExitCode, Is.EqualTo(expected), $"stdout:\n{job.Stdout}\nstderr:\n{job.Stderr}");
    }

    [Test]
    public async Task Run_ScriptOnFourRanks_EveryRankRunsItAsMainWithItsArguments()
    {
        var job = await Pympi("-n", "4", "hello.py", "-n", "7", "x y");
        AssertExit(job, 0);
        var lines = job.StdoutLines.Select(l => l.Trim()).Order().ToArray();
        Assert.That(lines, Is.EqualTo(Enumerable.Range(0, 4)
            .Select(r => $"rank {r} of 4 argv=['-n', '7', 'x y'] main=__main__ total=6 launcher=mpiexec").ToArray()));
    }

    [Test]
    public async Task Run_OneRank_RunsInProcessWithoutMpiexec()
    {
        var job = await Pympi("hello.py");
        AssertExit(job, 0);
        Assert.That(job.StdoutLines, Is.EqualTo(new[] { "rank 0 of 1 argv=[] main=__main__ total=0 launcher=none" }));
    }

    [Test]
    public async Task Run_UncaughtExceptionOnOneRank_PrintsTracebackWithRankAndEndsEveryRankWithin10s()
    {
        var job = await Pympi("-n", "3", "crash.py");
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "every rank must be gone within 10 s");
        Assert.That(job.Stderr, Does.Contain("[rank 1] Traceback (most recent call last):"));
        Assert.That(job.Stderr, Does.Contain("[rank 1] ValueError: boom on rank 1"));
        Assert.That(job.Stderr, Does.Match(@"\[rank 1\] .*in deeper"), "the traceback keeps every frame");
        Assert.That(job.Stdout, Does.Not.Contain("unreachable"));
    }

    [Test]
    public async Task Run_SysExitWithCodeOnRank0_PropagatesThatExitCodeWithoutHanging()
    {
        var job = await Pympi("-n", "2", "exit3.py");
        AssertExit(job, 3);
    }

    [Test]
    public async Task Run_SysExitOnSingleRank_PropagatesExitCode()
    {
        var job = await Pympi("exit3.py");
        AssertExit(job, 3);
    }

    /// <summary>The exit status <c>/usr/bin/python3 -c code</c> gives: what <c>pympi run</c> must give too.</summary>
    private static async Task<int> PythonExitStatus(string code)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(code);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await InTime.Exit(p, Timeout);
        await stderr;
        return p.ExitCode;
    }

    [TestCase("2**40")]
    [TestCase("2**70")]
    [TestCase("-2**70")]
    [TestCase("256 + 7")]
    [TestCase("-1")]
    [TestCase("True")]
    [TestCase("None")]
    [TestCase("'bye'")]
    public async Task Run_SysExitOfAnyValue_ExitsWithTheStatusCPythonGives(string value)
    {
        string code = $"import sys; sys.exit({value})";
        int expected = await PythonExitStatus(code);
        var job = await Pympi("-c", code);
        AssertExit(job, expected);
        Assert.That(job.Stderr, Does.Not.Contain("error"), "no .NET error on the way out");
    }

    [Test]
    public async Task Run_SysExitOfAHugeIntOnOneRank_EndsTheJobWithStatus255WhileTheOtherWaits()
    {
        var job = await Pympi("-n", "2", "-c", "import sys; from mpi4py import MPI; c = MPI.COMM_WORLD\nif c.rank == 1: sys.exit(2**70)\nc.Barrier()");
        AssertExit(job, 255);
        Assert.That(job.Stderr, Does.Contain("[rank 1] aborting the job (exit code 255)"));
    }

    [Test]
    public async Task Run_Module_RunsItAsMainLikePythonDashM()
    {
        var job = await Pympi("-n", "2", "-m", "pkg.tool", "a");
        AssertExit(job, 0);
        Assert.That(job.StdoutLines.Order(), Is.EqualTo(new[]
        {
            "module rank 0 main=__main__ argv0=True rest=['a']", "module rank 1 main=__main__ argv0=True rest=['a']",
        }));
    }

    [Test]
    public async Task Run_Code_RunsItWithDashCArgv()
    {
        var job = await Pympi("-n", "2", "-c", "import sys; from mpi4py import MPI; print(MPI.COMM_WORLD.rank, sys.argv)", "q");
        AssertExit(job, 0);
        Assert.That(job.StdoutLines.Order(), Is.EqualTo(new[] { "0 ['-c', 'q']", "1 ['-c', 'q']" }));
    }

    [Test]
    public async Task Run_MissingScript_ExitsWith2AndSaysWhichFile()
    {
        var job = await Pympi("-n", "2", "no_such_script.py");
        AssertExit(job, 2);
        Assert.That(job.Stderr, Does.Contain("script 'no_such_script.py' does not exist"));
    }

    [Test]
    public async Task Run_WithPythonThatDoesNotExist_SaysWhatWasTriedAndWhatToDo()
    {
        var job = await Pympi("--python", "/nonexistent/python3", "hello.py");
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Contain("/nonexistent/python3 [--python]: file does not exist"));
        Assert.That(job.Stderr, Does.Contain("PYMPI_PYTHON=/path/to/python"), "says what to do");
    }

    [Test]
    public async Task Run_WithPythonThatDoesNotExist_OnSeveralRanks_NamesTheOptionTheUserGaveAndEnds()
    {
        var job = await Pympi("-n", "2", "--python", "/nonexistent/python3", "hello.py");
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Contain("/nonexistent/python3 [--python]: file does not exist"));
    }

    [Test]
    public async Task Run_UnderAnMpiThatMpi4pyWasNotBuiltOn_AbortsWithAHintInsteadOfACrypticError()
    {
        Assert.That(MpiLauncher.FindMpiexec(MpiFlavor.Mpich), Is.Not.Null, "mpiexec.mpich is installed by make test");
        var job = await Pympi("--mpi", "mpich", "-n", "2", "hello.py");
        Assert.That(job.TimedOut, Is.False);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Contain("hint: mpi4py could not start on the MPI library this rank loaded (libmpich.so.12, Mpich)"));
        Assert.That(job.Stderr, Does.Contain("pympi run --mpi openmpi"));
    }

    [Test]
    public async Task Run_OrdinaryPythonError_GetsNoMpiHint()
    {
        var job = await Pympi("-n", "2", "crash.py");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Stderr, Does.Not.Contain("hint: mpi4py"));
    }
}
