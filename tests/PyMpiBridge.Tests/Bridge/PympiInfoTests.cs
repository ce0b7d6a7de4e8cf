using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary><c>pympi info</c>: what the machine gives us, and what to install for what is missing.</summary>
public class PympiInfoTests
{
    private static Task<MpiJobResult> Info(params string[] args)
        => InTime.Job(MpiLauncher.RunAsync(ScenarioRun.OutsideLauncher(ScenarioRun.PympiDll, ["info", .. args]), ScenarioRun.Timeout));

    [Test]
    public async Task Info_OnThisMachine_ReportsMpiPythonAndThatMpi4pySharesOurMpi()
    {
        var job = await Info();
        string all = job.Stdout + job.Stderr;
        Assert.That(job.ExitCode, Is.EqualTo(0), all);
        Assert.That(job.Stdout, Does.Match(@"implementation\s+Open MPI 4\.\d+\.\d+ \(Open MPI v4"), all);
        Assert.That(job.Stdout, Does.Match(@"launched by\s+no launcher \(a 1-rank world\)"), all);
        Assert.That(job.Stdout, Does.Match(@"ABI\s+OpenMpi"), all);
        Assert.That(job.Stdout, Does.Match(@"thread level\s+Multiple"), all);
        Assert.That(job.Stdout, Does.Match(@"executable\s+/usr/bin/python3"), all);
        Assert.That(job.Stdout, Does.Match(@"libpython\s+/.*libpython3\.\d+\.so"), all);
        Assert.That(job.Stdout, Does.Match(@"numpy\s+\d+\.\d+"), all);
        Assert.That(job.Stdout, Does.Match(@"mpi4py\s+\d+\.\d+\.\d+; shares this MPI library with C#"), all);
        Assert.That(job.Stdout, Does.Match(@"cloudpickle\s+\d+\.\d+"), all);
    }

    [Test]
    public async Task Info_WithUnusablePython_ExitsNonZeroAndSaysWhatToDo()
    {
        var job = await Info("--python", "/bin/true");
        Assert.That(job.ExitCode, Is.EqualTo(1), job.Stdout + job.Stderr);
        Assert.That(job.Stdout, Does.Contain("/bin/true"));
        Assert.That(job.Stdout, Does.Contain("apt-get install libpython3-dev python3-numpy"));
        Assert.That(job.Stdout, Does.Match(@"ABI\s+OpenMpi"), "the MPI part is still reported");
    }

    [Test]
    public async Task Info_WithUnknownOption_ExitsWithUsage()
    {
        var job = await Info("--bogus");
        Assert.That(job.ExitCode, Is.EqualTo(2));
        Assert.That(job.Stderr, Does.Contain("pympi info: Unrecognized command or argument '--bogus'"));
        Assert.That(job.Stderr, Does.Contain("Run 'pympi info --help' for usage."));
    }
}
