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
