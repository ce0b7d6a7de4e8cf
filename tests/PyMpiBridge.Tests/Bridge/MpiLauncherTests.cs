using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Bridge;

public class LauncherTests
{
    [Test]
    public void CreateStartInfo_RejectsZeroRanks()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MpiLauncher.CreateStartInfo(0, "true", []));
        Assert.That(e!.ParamName, Is.EqualTo("ranks"));
    }

    [Test]
    public void CreateStartInfo_OversubscribesOnlyWhenRanksExceedCores()
    {
        var many = MpiLauncher.CreateStartInfo(Environment.ProcessorCount + 1, "true", []);
        var one = MpiLauncher.CreateStartInfo(1, "true", []);
        Assert.That(many.ArgumentList, Does.Contain("--oversubscribe"));
        Assert.That(one.ArgumentList, Does.Not.Contain("--oversubscribe"));
        Assert.That(many.Environment["OMPI_ALLOW_RUN_AS_ROOT"], Is.EqualTo("1"));
    }

    [Test]
    public void CreateStartInfo_WithAHostfile_LeavesSlotsToItAndForwardsTheRanksVariablesToOpenMpi()
    {
        string hostfile = Path.GetTempFileName();
        File.WriteAllText(hostfile, "node1 slots=1\nnode2 slots=1\n");
        string? saved = Environment.GetEnvironmentVariable("PYMPI_LOG_LEVEL");
        try
        {
            Environment.SetEnvironmentVariable("PYMPI_LOG_LEVEL", "Debug");
            var hosts = MpiHosts.Create(hostfile, null, MpiFlavor.OpenMpi);
            var psi = MpiLauncher.CreateStartInfo(Environment.ProcessorCount + 1, "true", [],
                environment: new Dictionary<string, string> { ["JOB_SETTING"] = "1" }, hosts: hosts);
            var words = psi.ArgumentList.ToList();
            Assert.That(words, Does.Not.Contain("--oversubscribe"));
            Assert.That(words, Does.Contain("--hostfile"));
            // ssh brings a login's environment to the other hosts: what the job set and our settings travel with -x
            Assert.That(Forwarded(words), Does.Contain("JOB_SETTING").And.Contain("PYMPI_LOG_LEVEL"));
            Assert.That(Forwarded(words), Does.Not.Contain("OMPI_ALLOW_RUN_AS_ROOT").And.Not.Contain("PATH"));
            Assert.That(words.IndexOf("true"), Is.GreaterThan(words.LastIndexOf("-x")), "mpiexec's words come before the program");
        }
        finally
        {
            Environment.SetEnvironmentVariable("PYMPI_LOG_LEVEL", saved);
            File.Delete(hostfile);
        }

        static IEnumerable<string> Forwarded(List<string> words) => words.Where((w, i) => i > 0 && words[i - 1] == "-x");
    }

    [Test]
    public void CreateStartInfo_InsideAnAllocation_LeavesOversubscriptionToItsSlots()
        => Assert.That(MpiLauncher.CreateStartInfo(Environment.ProcessorCount + 1, "true", [], oversubscribe: false).ArgumentList,
            Does.Not.Contain("--oversubscribe"));

    [Test]
    public void SrunStartInfo_UsesThePluginEachLibrarySpeaksAndEndsTheStepOnAFailedRank()
    {
        string? saved = Environment.GetEnvironmentVariable("PATH");
        string bin = Directory.CreateTempSubdirectory("pympi-srun-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(bin, "srun"), "#!/bin/sh\n");   // found on PATH, never run
            Environment.SetEnvironmentVariable("PATH", bin);
            var openMpi = SrunLauncher.CreateStartInfo(4, "dotnet", ["pympi.dll", "__rank"], MpiFlavor.OpenMpi, ["--time=5"]);
            var mpich = SrunLauncher.CreateStartInfo(2, "dotnet", [], MpiFlavor.Mpich);
            Assert.That(openMpi.FileName, Is.EqualTo(Path.Combine(bin, "srun")));
            Assert.That(openMpi.ArgumentList, Is.EqualTo(new[] { "--ntasks=4", "--mpi=pmix", "--kill-on-bad-exit=1", "--time=5", "dotnet", "pympi.dll", "__rank" }));
            Assert.That(mpich.ArgumentList, Does.Contain("--mpi=pmi2"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", saved);
            Directory.Delete(bin, recursive: true);
        }
    }

    [Test]
    public void SrunStartInfo_WithoutSlurm_SaysWhereToRun()
    {
        string? saved = Environment.GetEnvironmentVariable("PATH");
        try
        {
            Environment.SetEnvironmentVariable("PATH", "/nonexistent");
            var e = Assert.Throws<FileNotFoundException>(() => SrunLauncher.CreateStartInfo(2, "dotnet", []));
            Assert.That(e!.Message, Does.Contain("srun was not found on PATH").And.Contain("--launcher mpiexec"));
        }
        finally { Environment.SetEnvironmentVariable("PATH", saved); }
    }

    [Test]
    public void FindMpiexec_ThroughSymlinkedBin_ReturnsPathUnderTheRealDirectory()
    {
        // Debian's merged /usr: /bin is a link to usr/bin. Open MPI needs the /usr/bin path to find its prefix.
        if (new DirectoryInfo("/bin").LinkTarget is null) Assert.Ignore("/bin is not a symbolic link on this machine");
        string? saved = Environment.GetEnvironmentVariable("PATH");
        try
        {
            Environment.SetEnvironmentVariable("PATH", "/bin:/usr/bin");
            string? found = MpiLauncher.FindMpiexec(MpiFlavor.OpenMpi);
            Assert.That(found, Does.StartWith("/usr/bin/"));
        }
        finally { Environment.SetEnvironmentVariable("PATH", saved); }
    }
}
