using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// Where <c>pympi run</c>'s ranks run: in this process (one rank: a plain run, or one task of an <c>srun</c> step that
/// already is the job), or as a job of <see cref="Ranks"/> ranks started by mpiexec or srun. Inside a Slurm allocation
/// the allocation decides: its task count is the default <c>-n</c>, and its slots (not this machine's cores) decide
/// whether Open MPI may oversubscribe.
/// </summary>
/// <param name="Ranks">Ranks of the job.</param>
/// <param name="InThisProcess">Run the one rank here, without a launcher.</param>
/// <param name="Oversubscribe">What to tell mpiexec about oversubscription; null: when ranks exceed the cores.</param>
internal sealed record RankPlacement(int Ranks, bool InThisProcess, bool? Oversubscribe)
{
    /// <summary>The placement of <paramref name="options"/> in <paramref name="allocation"/> (null: outside Slurm).</summary>
    /// <exception cref="ArgumentException">Options that make no sense where this runs, saying what to do instead.</exception>
    public static RankPlacement Decide(RunOptions options, SlurmAllocation? allocation)
    {
        if (allocation is { IsTaskOfParallelStep: true, StepTasks: int step })
        {
            string? refused = options.RanksGiven && options.Ranks > 1 ? $"-n {options.Ranks}"
                : options.Launcher is { } launcher ? $"--launcher {launcher.ToString().ToLowerInvariant()}"
                : options.MpiexecArguments.Count > 0 ? "--mpiexec-arg"
                : options.Timeout is not null ? "--timeout" : null;
            if (refused is not null)
                throw new ArgumentException(
                    $"{refused} does not apply inside an srun step: srun started this process as one of its {step} tasks, each of which " +
                    $"is already one rank of the job. Drop it to run the program on the step's {step} ranks (srun's own options " +
                    "set the rest, e.g. --time), or run 'pympi run' once from the allocation (the salloc shell or the sbatch " +
                    "script) instead of under srun.");
            return new RankPlacement(1, InThisProcess: true, Oversubscribe: null);
        }

        int ranks = allocation is not null && !options.RanksGiven ? allocation.Tasks : options.Ranks;
        bool plain = options.MpiexecArguments.Count == 0 && options.Flavor == MpiFlavor.OpenMpi && options.Timeout is null && options.Hosts.IsDefault
                     && options.Launcher is null or RankLauncher.Mpiexec;
        return new RankPlacement(ranks, InThisProcess: ranks == 1 && plain, Oversubscribe: allocation is null ? null : false);
    }
}
