using System.Text.RegularExpressions;

namespace PyMpiBridge.Launching;

/// <summary>
/// Where the ranks of a job run when it spans hosts: a hostfile naming the hosts (and their slots), and optionally the
/// command that starts processes on them instead of <c>ssh</c> (a site's wrapper, <c>rsh</c>, a container entry).
/// Each launcher spells both its own way (table in <see cref="MpiexecArguments"/>); the hostfile's syntax is its
/// launcher's, checked here so that a file written for the other one fails with the fix instead of a launcher's riddle.
/// </summary>
public sealed partial record MpiHosts
{
    /// <summary>No hostfile, no agent: the launcher's own choice (this host, or a batch allocation).</summary>
    public static readonly MpiHosts Default = new(null, null);

    /// <summary>Absolute path of the hostfile, or null.</summary>
    public string? Hostfile { get; }

    /// <summary>The command that starts processes on other hosts (called as <c>ssh</c> is: <c>AGENT HOST COMMAND</c>), or null.</summary>
    public string? LaunchAgent { get; }

    private MpiHosts(string? hostfile, string? launchAgent) => (Hostfile, LaunchAgent) = (hostfile, launchAgent);

    /// <summary>Whether the launcher decides where ranks run (no hostfile and no agent given).</summary>
    public bool IsDefault => Hostfile is null && LaunchAgent is null;

    /// <summary>
    /// Checks a hostfile and an agent for <paramref name="flavor"/>'s launcher; throws <see cref="ArgumentException"/>
    /// saying what is wrong and what to write instead.
    /// </summary>
    public static MpiHosts Create(string? hostfile, string? launchAgent, MpiFlavor flavor)
    {
        string? path = hostfile is null ? null : CheckHostfile(hostfile, flavor);
        if (launchAgent is not null && string.IsNullOrWhiteSpace(launchAgent))
            throw new ArgumentException("--launch-agent is empty: give the command that starts a process on another host (as ssh does).");
        return new MpiHosts(path, launchAgent);
    }

    /// <summary>The launcher's words for this placement.</summary>
    public IEnumerable<string> MpiexecArguments(MpiFlavor flavor)
    {
        // | what        | Open MPI (orterun)            | MPICH (hydra)                          |
        // | hostfile    | --hostfile F                  | -f F                                   |
        // | agent       | --mca plm_rsh_agent A         | -launcher ssh -launcher-exec A         |
        if (Hostfile is not null)
            foreach (string word in flavor == MpiFlavor.OpenMpi ? ["--hostfile", Hostfile] : (string[])["-f", Hostfile])
                yield return word;
        if (LaunchAgent is not null)
            foreach (string word in flavor == MpiFlavor.OpenMpi
                         ? ["--mca", "plm_rsh_agent", LaunchAgent]
                         : (string[])["-launcher", "ssh", "-launcher-exec", LaunchAgent])
                yield return word;
    }

    private static string CheckHostfile(string hostfile, MpiFlavor flavor)
    {
        string path = Path.GetFullPath(hostfile);
        if (!File.Exists(path))
            throw new ArgumentException($"hostfile '{hostfile}' does not exist (working directory {Environment.CurrentDirectory}).");
        var hosts = File.ReadAllLines(path).Select(l => (l.Split('#')[0]).Trim()).Where(l => l.Length > 0).ToList();
        if (hosts.Count == 0)
            throw new ArgumentException($"hostfile '{hostfile}' names no host: write one host per line ({Example(flavor)}).");
        foreach (string line in hosts)
        {
            // Open MPI: "host [slots=N] [max_slots=N]"; hydra: "host[:N]". Each rejects the other's form, obscurely.
            bool openMpiForm = line.Contains('='), hydraForm = HydraLine().IsMatch(line);
            if (flavor == MpiFlavor.Mpich && openMpiForm)
                throw new ArgumentException($"hostfile '{hostfile}': '{line}' is Open MPI's syntax; MPICH reads 'host:slots' ({Example(flavor)}).");
            if (flavor == MpiFlavor.OpenMpi && hydraForm)
                throw new ArgumentException($"hostfile '{hostfile}': '{line}' is MPICH's syntax; Open MPI reads 'host slots=N' ({Example(flavor)}).");
        }
        return path;
    }

    /// <summary>"host:N" (one colon, then the slots): hydra's form; an IPv6 address has several colons.</summary>
    [GeneratedRegex(@"^[^:\s]+:\d+$")]
    private static partial Regex HydraLine();

    private static string Example(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "e.g. 'node1 slots=2'" : "e.g. 'node1:2'";
}
