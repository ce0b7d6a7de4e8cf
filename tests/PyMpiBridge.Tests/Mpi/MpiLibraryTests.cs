using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Which library is tried first, and how a version string is classified.</summary>
public class MpiLibraryTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars)
        => name => vars.FirstOrDefault(v => v.Key == name).Value;

    [Test]
    public void Candidates_Override_IsTheOnlyCandidate()
        => Assert.That(MpiLibrary.Candidates(Env(("PYMPI_MPI_LIBRARY", "/opt/mpi/lib/libmpi.so"), ("PMI_SIZE", "4"))),
            Is.EqualTo(new[] { "/opt/mpi/lib/libmpi.so" }));

    [Test]
    public void Candidates_UnderHydra_TriesMpichFirst()
        => Assert.That(MpiLibrary.Candidates(Env(("PMI_SIZE", "4")))[0], Is.EqualTo("libmpich.so.12"));

    [Test]
    public void Candidates_UnderOpenMpiLauncher_TriesOpenMpiFirst()
        => Assert.That(MpiLibrary.Candidates(Env(("OMPI_COMM_WORLD_SIZE", "4")))[0], Is.EqualTo("libmpi.so.40"));

    [Test]
    public void Candidates_NoLauncher_DefaultsToOpenMpiThenMpich()
    {
        var candidates = MpiLibrary.Candidates(Env());
        Assert.That(candidates[0], Is.EqualTo("libmpi.so.40"));
        Assert.That(candidates, Does.Contain("libmpich.so.12"));
    }

    [Test]
    public void DetectLauncher_OpenMpiVariableWinsOverPmi()
        => Assert.That(MpiLibrary.DetectLauncher(Env(("OMPI_COMM_WORLD_SIZE", "2"), ("PMI_RANK", "0"))), Is.EqualTo(MpiAbi.OpenMpi));

    [TestCase("Open MPI v4.1.4, package: Debian OpenMPI", MpiAbi.OpenMpi)]
    [TestCase("MPICH Version:\t4.0.2\nMPICH Release date: ...", MpiAbi.Mpich)]
    [TestCase("Intel(R) MPI Library 2021.6 for Linux* OS", MpiAbi.Mpich)]
    public void Classify_KnownLibraryVersions(string version, MpiAbi expected)
        => Assert.That(MpiLibrary.Classify(version), Is.EqualTo(expected));

    [Test]
    public void Classify_UnknownLibrary_IsNull() => Assert.That(MpiLibrary.Classify("Microsoft MPI 10.1"), Is.Null);

    [Test]
    public void NotFoundMessage_ListsAttemptsAndHowToInstall()
    {
        string message = MpiLibrary.NotFoundMessage(["  libmpi.so.40: cannot open shared object file"]);
        Assert.That(message, Does.Contain("libmpi.so.40: cannot open")
            .And.Contain("apt-get install openmpi-bin libopenmpi-dev")
            .And.Contain("apt-get install mpich libmpich-dev")
            .And.Contain("PYMPI_MPI_LIBRARY"));
    }
}
