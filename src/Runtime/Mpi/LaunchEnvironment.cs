using System.Collections;
using System.Globalization;

namespace PyMpiBridge.Mpi;

/// <summary>
/// What launched this process and how many ranks it started, read from the variables launchers set. Decides which
/// MPI library to try first, and lets <see cref="MpiEnvironment.Init"/> refuse the silent failure of a library that
/// does not speak the launcher's protocol: it initializes as a 1-rank world, so every rank of the job runs alone.
/// Verified here (Slurm 22.05, Open MPI 4.1.4, MPICH 4.0.2): under <c>srun --mpi=pmix</c> Open MPI joins the tasks and
/// MPICH runs each as a singleton; under <c>--mpi=pmi2</c> MPICH joins them and Open MPI aborts; under
/// <c>--mpi=none</c> MPICH runs singletons and Open MPI aborts. Under hydra inside an allocation the ranks also carry
/// the proxies' <c>SLURM_STEP_NUM_TASKS=1</c>, and under Open MPI's mpiexec <c>PMIX_RANK</c>: the first row that
/// matches wins.
/// </summary>
/// <param name="Kind">The launcher.</param>
/// <param name="Ranks">How many ranks the launcher started; null when it does not say.</param>
/// <param name="PreferredAbi">Whose library speaks this launcher's protocol (tried first); null: no preference.</param>
/// <param name="Launcher">The launcher in words, for messages.</param>
/// <param name="Evidence">The variables that told, as <c>NAME=value</c>.</param>
public sealed record LaunchEnvironment(MpiLauncherKind Kind, int? Ranks, MpiAbi? PreferredAbi, string Launcher, string Evidence)
{
    /// <summary>Variable naming the MPI library to load instead of the ones found by their sonames.</summary>
    public const string LibraryVariable = "PYMPI_MPI_LIBRARY";

    /// <summary>This process's launch environment.</summary>
    public static LaunchEnvironment Current => Detect(ProcessEnvironment());

    /// <summary>The decision table: the first row whose variables are set describes the launcher.</summary>
    public static LaunchEnvironment Detect(IReadOnlyDictionary<string, string> env)
    {
        string? Get(string name) => env.TryGetValue(name, out string? v) && !string.IsNullOrEmpty(v) ? v : null;
        int? Count(string name) => int.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;
        string Show(params string[] names) => string.Join(", ", names.Where(n => Get(n) is not null).Select(n => $"{n}={Get(n)}"));

        string? slurmMpi = Get("SLURM_MPI_TYPE");
        int? stepTasks = Count("SLURM_STEP_NUM_TASKS");

        if (Get("OMPI_COMM_WORLD_SIZE") is not null)
            return new(MpiLauncherKind.OpenMpiMpiexec, Count("OMPI_COMM_WORLD_SIZE"), MpiAbi.OpenMpi, "Open MPI's mpiexec",
                Show("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"));
        if (Get("PMI_SIZE") is not null || Get("PMI_RANK") is not null)
            return new(MpiLauncherKind.Pmi, Count("PMI_SIZE"), MpiAbi.Mpich,
                slurmMpi == "pmi2" ? "srun --mpi=pmi2" : "a PMI launcher (MPICH's mpiexec.mpich, Intel MPI's mpiexec)",
                Show("PMI_SIZE", "PMI_RANK", "SLURM_MPI_TYPE"));
        if (Get("PMIX_RANK") is not null || Get("PMIX_NAMESPACE") is not null)
        {
            bool srun = slurmMpi?.StartsWith("pmix", StringComparison.Ordinal) == true;
            return new(MpiLauncherKind.Pmix, srun ? stepTasks : null, MpiAbi.OpenMpi,
                srun ? $"srun --mpi={slurmMpi}" : "a PMIx launcher (prterun)",
                Show("PMIX_RANK", "PMIX_NAMESPACE", "SLURM_MPI_TYPE", "SLURM_STEP_NUM_TASKS"));
        }
        if (Get("PALS_RANKID") is not null)
            return new(MpiLauncherKind.CrayPals, stepTasks, MpiAbi.Mpich,
                slurmMpi is not null ? $"srun --mpi={slurmMpi}" : "Cray PALS's mpiexec",
                Show("PALS_RANKID", "SLURM_MPI_TYPE", "SLURM_STEP_NUM_TASKS"));
        if (stepTasks is not null)
            return new(MpiLauncherKind.SrunWithoutMpi, stepTasks, null, $"srun --mpi={slurmMpi ?? "none"}",
                Show("SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_MPI_TYPE"));
        return new(MpiLauncherKind.None, null, null, "no launcher", "");
    }

    /// <summary>
    /// Why no library can be chosen for this environment, or null when one can: <c>srun</c> started several tasks
    /// without an MPI plugin, and neither of the libraries we find by soname can join them (an MPI built with Slurm's
    /// own PMI library can, so <see cref="LibraryVariable"/> lifts this).
    /// </summary>
    public string? Undecidable => Kind == MpiLauncherKind.SrunWithoutMpi && Ranks > 1
        ? $"{Launcher} started this process as one of {Ranks} tasks ({Evidence}) without an MPI plugin, so neither Open MPI " +
          $"nor MPICH can join the tasks into one job: each would run as a 1-rank world. Launch with 'srun --mpi=pmix' " +
          $"(Open MPI) or 'srun --mpi=pmi2' (MPICH, Intel MPI, MVAPICH), or run 'pympi run -n {Ranks}' inside the allocation " +
          $"(see 'srun --mpi=list'); for an MPI built with Slurm's own PMI, set {LibraryVariable} to it."
        : null;

    /// <summary>
    /// Checks the world MPI formed against what the launcher started; returns what is wrong, or null when nothing is. The
    /// one failure it catches is the silent one: the launcher started several ranks and the library sees a world of one.
    /// </summary>
    /// <param name="worldSize">Size of MPI_COMM_WORLD after initialization.</param>
    /// <param name="libraryPath">The library as it was loaded (path or soname).</param>
    /// <param name="implementation">The library's implementation (from its version string), e.g. "MPICH 4.0.2".</param>
    /// <param name="chosenBy">How the library was chosen, e.g. "PYMPI_MPI_LIBRARY" or "the launcher".</param>
    public string? CheckWorld(int worldSize, string libraryPath, string implementation, string chosenBy)
    {
        if (worldSize != 1 || Ranks is not > 1) return null;
        return $"{Launcher} started this process as one of {Ranks} ranks ({Evidence}), but the MPI library loaded, " +
               $"{libraryPath} ({implementation}, chosen by {chosenBy}), sees a world of 1 rank: it does not speak this " +
               $"launcher's protocol, so every rank would run alone. Set {LibraryVariable} to the library this launcher serves " +
               "(Open MPI's libmpi.so.40 under mpiexec and srun --mpi=pmix; an MPICH-ABI library such as libmpich.so.12 under " +
               "mpiexec.mpich and srun --mpi=pmi2), or launch with this library's own launcher.";
    }

    private static Dictionary<string, string> ProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = (string?)e.Value ?? "";
        return env;
    }
}
