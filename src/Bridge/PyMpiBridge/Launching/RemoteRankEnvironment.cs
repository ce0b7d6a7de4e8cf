namespace PyMpiBridge.Launching;

/// <summary>
/// The variables a rank on another host must see as its launcher saw them. Open MPI starts its daemons there through
/// <c>ssh</c> (or an agent), which brings only the remote login's environment; ranks inherit that, plus the variables
/// named with <c>-x</c>. MPICH's hydra forwards the whole environment itself, and batch systems (Slurm) do too, so only
/// Open MPI needs the names, and naming them is harmless where ranks run on the launcher's host.
/// </summary>
public static class RemoteRankEnvironment
{
    /// <summary>Prefixes of the variables that configure a rank (ours, the embedded Python's, the .NET runtime's).</summary>
    private static readonly string[] s_prefixes = ["PYMPI_", "PYMPIBRIDGE_", "PYTHON", "DOTNET_"];

    /// <summary>
    /// Names in <paramref name="environment"/> to forward: every variable set for this job by its caller
    /// (<paramref name="setForJob"/>), and every one whose name starts with a prefix in the table above. Sorted, so a
    /// command line is the same from run to run.
    /// </summary>
    public static IReadOnlyList<string> Names(IDictionary<string, string?> environment, IEnumerable<string> setForJob)
    {
        var names = new SortedSet<string>(setForJob.Where(environment.ContainsKey), StringComparer.Ordinal);
        foreach (var (name, value) in environment)
            if (value is not null && s_prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                names.Add(name);
        return [.. names];
    }

    /// <summary>Open MPI's words that forward <paramref name="names"/>: <c>-x NAME</c> each.</summary>
    public static IEnumerable<string> OpenMpiArguments(IEnumerable<string> names) => names.SelectMany(n => (string[])["-x", n]);
}
