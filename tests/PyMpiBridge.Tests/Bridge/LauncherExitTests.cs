using System.Diagnostics;
using PyMpiBridge.Launching;
using PyMpiBridge.Tests.Mpi;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>
/// A rank whose launcher is killed ends too, instead of waiting forever in MPI as an orphan (found after a cluster
/// was stopped while its engines were starting). The launcher here is each rank's parent: Open MPI's mpiexec, MPICH's
/// hydra_pmi_proxy. Once MPI is up, Open MPI ends its ranks itself when its launcher goes; MPICH's would wait forever
/// without the rank session's watch on its launcher (which also covers a rank still starting, under either).
/// </summary>
public class LauncherExitTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90), End = TimeSpan.FromSeconds(30);
    private string _dir = "";

    [SetUp]
    public void WriteScript()
    {
        _dir = Directory.CreateTempSubdirectory("pympi-launcher-exit").FullName;
        // Under Open MPI rank 0 waits in a collective rank 1 never reaches: what a rank of a half-started job does.
        // mpi4py (behind pympibridge.world) is built on Open MPI, so under MPICH both ranks just wait.
        File.WriteAllText(Path.Combine(_dir, "wait.py"), """
            import os, sys, time
            rank = int(os.environ.get("OMPI_COMM_WORLD_RANK") or os.environ["PMI_RANK"])
            with open(os.path.join(sys.argv[1], f"rank{rank}.tmp"), "w") as f:
                f.write(f"{os.getpid()} {os.getppid()}")
            os.rename(f.name, f.name[:-4] + ".pid")
            if rank == 0 and "OMPI_COMM_WORLD_RANK" in os.environ:
                from pympibridge import world
                world.Barrier()
            else:
                time.sleep(600)
            """);
    }

    [TearDown]
    public void DeleteScript() => Directory.Delete(_dir, recursive: true);

    [TestCase(MpiFlavor.OpenMpi)]
    [TestCase(MpiFlavor.Mpich)]
    public async Task LauncherKilled_EveryRankEndsInsteadOfWaitingInMpi(MpiFlavor flavor)
    {
        string mpi = flavor == MpiFlavor.Mpich ? "mpich" : "openmpi";
        using var run = Process.Start(ScenarioRun.OutsideLauncher(ScenarioRun.PympiDll, ["run", "--mpi", mpi, "-n", "2", "wait.py", _dir], _dir))!;
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        var ranks = new List<(int Pid, int Parent)>();
        try
        {
            ranks = await RanksStarted(run, stderr, 2);
            Assert.That(ranks.Select(r => r.Parent).Distinct().Count(), Is.EqualTo(1), "both ranks have the same launcher");
            Process.GetProcessById(ranks[0].Parent).Kill(); // SIGKILL: the launcher gets no chance to end its ranks

            var deadline = DateTime.UtcNow + End;
            while (ranks.Any(r => Running(r.Pid)) && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            Assert.That(ranks.Where(r => Running(r.Pid)).Select(r => r.Pid), Is.Empty,
                $"ranks still running {End.TotalSeconds:F0} s after their launcher was killed");
            await InTime.Exit(run, End);
            Assert.That(run.ExitCode, Is.Not.EqualTo(0), "a job whose launcher was killed did not succeed");
        }
        finally
        {
            Cleanup(run, ranks);
            await Task.WhenAll(stdout, stderr);
        }
    }

    private async Task<List<(int Pid, int Parent)>> RanksStarted(Process run, Task<string> stderr, int count)
    {
        var deadline = DateTime.UtcNow + Start;
        while (DateTime.UtcNow < deadline)
        {
            var files = Directory.GetFiles(_dir, "rank*.pid");
            if (files.Length == count)
                return files.Order().Select(f => File.ReadAllText(f).Split(' ')).Select(p => (int.Parse(p[0]), int.Parse(p[1]))).ToList();
            if (run.HasExited)
                Assert.Fail($"pympi run exited ({run.ExitCode}) before its {count} ranks started:\n{await stderr}");
            await Task.Delay(100);
        }
        Assert.Fail($"the {count} ranks did not start within {Start.TotalSeconds:F0} s");
        return [];
    }

    /// <summary>Alive and not a zombie (an orphan's corpse waits for whoever adopted it to reap it).</summary>
    private static bool Running(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }

    /// <summary>Leaves nothing running whatever the outcome.</summary>
    private static void Cleanup(Process run, List<(int Pid, int Parent)> ranks)
    {
        foreach (var (pid, _) in ranks)
            if (Running(pid))
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        if (!run.HasExited) run.Kill(entireProcessTree: true);
    }
}
