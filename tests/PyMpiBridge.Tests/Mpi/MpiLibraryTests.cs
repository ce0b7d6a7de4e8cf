using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Which library is tried first, and how a version string is classified.</summary>
public class MpiLibraryTests
{
    private static LaunchEnvironment Launch(string variables) => LaunchEnvironment.Detect(LaunchEnvironmentTests.Env(variables));

    [Test]
    public void Candidates_Override_IsTheOnlyCandidate()
        => Assert.That(MpiLibrary.Candidates(Launch("PMI_SIZE=4"), "/opt/mpi/lib/libmpi.so"), Is.EqualTo(new[] { "/opt/mpi/lib/libmpi.so" }));

    [Test]
    public void Candidates_Override_IsTriedEvenWhereTheEnvironmentCannotDecide()
        => Assert.That(MpiLibrary.Candidates(Launch("SLURM_STEP_NUM_TASKS=4 SLURM_MPI_TYPE=none"), "libmpi_slurm_pmi.so.12"),
            Is.EqualTo(new[] { "libmpi_slurm_pmi.so.12" }));

    [Test]
    public void Candidates_SrunWithoutMpiPluginOfSeveralTasks_RefusesSayingWhatToUse()
    {
        var e = Assert.Throws<MpiLaunchException>(() => MpiLibrary.Candidates(Launch("SLURM_STEP_NUM_TASKS=4 SLURM_PROCID=2 SLURM_MPI_TYPE=none"), null));
        Assert.That(e!.Message, Does.Contain("one of 4 tasks").And.Contain("SLURM_MPI_TYPE=none").And.Contain("srun --mpi=pmix")
            .And.Contain("srun --mpi=pmi2").And.Contain("pympi run -n 4").And.Contain("PYMPI_MPI_LIBRARY"));
    }

    [Test]
    public void Candidates_UnderPmiLauncher_TriesMpichFirst()
        => Assert.That(MpiLibrary.Candidates(Launch("PMI_SIZE=4"), null)[0], Is.EqualTo("libmpich.so.12"));

    [Test]
    public void Candidates_UnderSrunPmix_TriesOpenMpiFirst()
        => Assert.That(MpiLibrary.Candidates(Launch("PMIX_RANK=0 PMIX_NAMESPACE=slurm.pmix.3.0 SLURM_MPI_TYPE=pmix SLURM_STEP_NUM_TASKS=2"), null)[0],
            Is.EqualTo("libmpi.so.40"));

    [Test]
    public void Candidates_UnderOpenMpiLauncher_TriesOpenMpiFirst()
        => Assert.That(MpiLibrary.Candidates(Launch("OMPI_COMM_WORLD_SIZE=4"), null)[0], Is.EqualTo("libmpi.so.40"));

    [Test]
    public void Candidates_NoLauncher_DefaultsToOpenMpiThenMpich()
    {
        var candidates = MpiLibrary.Candidates(Launch(""), "  ");
        Assert.That(candidates[0], Is.EqualTo("libmpi.so.40"));
        Assert.That(candidates, Does.Contain("libmpich.so.12"));
    }

    [TestCase("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4", "Open MPI", "4.1.4", MpiAbi.OpenMpi)]
    [TestCase("MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 12:34:45 CDT 2022", "MPICH", "4.0.2", MpiAbi.Mpich)]
    [TestCase("Intel(R) MPI Library 2021.6 for Linux* OS\n", "Intel MPI", "2021.6", MpiAbi.Mpich)]
    [TestCase("MVAPICH2 Version      :\t2.3.7\nMVAPICH2 Release date :\tWed March 02 22:00:00 EST 2022", "MVAPICH", "2.3.7", MpiAbi.Mpich)]
    [TestCase("MPI VERSION    : CRAY MPICH version 8.1.25.17 (ANL base 3.4a2)\nMPI BUILD INFO : Sun Feb 26 15:15 2023", "Cray MPICH", "8.1.25.17", MpiAbi.Mpich)]
    public void Classify_KnownLibraryVersions(string version, string name, string number, MpiAbi abi)
        => Assert.That(MpiImplementation.Classify(version), Is.EqualTo(new MpiImplementation(name, number, abi)));

    [TestCase("Microsoft MPI 10.1")]
    [TestCase("HPE MPT 2.26, 10/17/22 04:04:52")]
    public void Classify_LibraryOfAnotherAbi_IsNull(string version) => Assert.That(MpiImplementation.Classify(version), Is.Null);

    [Test]
    public void NotFoundMessage_ListsAttemptsAndHowToInstall()
    {
        string message = MpiLibrary.NotFoundMessage(["  libmpi.so.40: cannot open shared object file"]);
        Assert.That(message, Does.Contain("libmpi.so.40: cannot open")
            .And.Contain("apt-get install openmpi-bin libopenmpi-dev")
            .And.Contain("apt-get install mpich libmpich-dev")
            .And.Contain("PYMPI_MPI_LIBRARY"));
    }

    [Test]
    public void NotFoundMessage_ForOverride_NamesTheVariableAndOtherImplementations()
    {
        string message = MpiLibrary.NotFoundMessage(["  /opt/intel/libmpi.so.12: cannot open shared object file"], "/opt/intel/libmpi.so.12");
        Assert.That(message, Does.StartWith("PYMPI_MPI_LIBRARY=/opt/intel/libmpi.so.12 could not be used")
            .And.Contain("Intel MPI").And.Contain("Cray MPICH").And.Contain("unset it"));
    }
}
