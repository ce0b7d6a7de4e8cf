using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PyMpiBridge.Launching;

/// <summary>
/// The Slurm allocation this process runs in — a <c>salloc</c> shell, an <c>sbatch</c> script, or a task of an
/// <c>srun</c> step inside either — read from the variables Slurm sets. <c>pympi run</c> uses it to start as many ranks
/// as the allocation has tasks, to let the allocation (not the core count) decide oversubscription, and to run as one
/// rank of an <c>srun</c> step instead of starting a job of its own from every task.
/// </summary>
/// <param name="JobId">The job (<c>SLURM_JOB_ID</c>).</param>
/// <param name="Tasks">Tasks of the allocation (<c>SLURM_NTASKS</c>, else the sum of <c>SLURM_TASKS_PER_NODE</c>).</param>
/// <param name="StepTasks">Tasks of the <c>srun</c> step this process is one of; null outside a step (the shell, the batch script).</param>
public sealed partial record SlurmAllocation(string JobId, int Tasks, int? StepTasks)
{
    /// <summary>This process's allocation, or null outside Slurm.</summary>
    public static SlurmAllocation? Current
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
                if (((string)e.Key).StartsWith("SLURM_", StringComparison.Ordinal)) env[(string)e.Key] = (string?)e.Value ?? "";
            return FromEnvironment(env);
        }
    }

    /// <summary>The allocation these variables describe, or null when they describe none.</summary>
    public static SlurmAllocation? FromEnvironment(IReadOnlyDictionary<string, string> env)
    {
        string? Get(string name) => env.TryGetValue(name, out string? v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        int? Count(string? text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;

        string? job = Get("SLURM_JOB_ID") ?? Get("SLURM_JOBID");
        if (job is null) return null;
        int tasks = Count(Get("SLURM_NTASKS")) ?? TasksPerNode(Get("SLURM_TASKS_PER_NODE")) ?? 1;
        return new SlurmAllocation(job, tasks, Count(Get("SLURM_STEP_NUM_TASKS")));
    }

    /// <summary>True inside an <c>srun</c> step of several tasks: this process is one rank of a job srun started.</summary>
    public bool IsTaskOfParallelStep => StepTasks > 1;

    /// <summary>Sums Slurm's compressed per-node task counts, e.g. <c>"4(x2),1"</c> → 9; null when unreadable.</summary>
    internal static int? TasksPerNode(string? text)
    {
        if (text is null) return null;
        int total = 0;
        foreach (string part in text.Split(','))
        {
            var m = PerNodeCount().Match(part.Trim());
            if (!m.Success) return null;
            int count = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int nodes = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1;
            total += count * nodes;
        }
        return total > 0 ? total : null;
    }

    [GeneratedRegex(@"^(\d+)(?:\(x(\d+)\))?$")]
    private static partial Regex PerNodeCount();
}
