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
