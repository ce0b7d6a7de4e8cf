using System.Globalization;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Options of <c>pympi bench bridge</c>:
/// <c>[--parts pingpong,hosted,startup,arrays] [--rounds N] [--repeats R] [--startup-runs N] [--timeout SECONDS]</c>.
/// </summary>
/// <param name="Parts">Which measurements to take (see <see cref="AllParts"/>).</param>
/// <param name="Rounds">Interleaved launches of each ping-pong program; the median round is reported.</param>
/// <param name="Repeats">Timed repeats inside one launch; its best is that launch's value.</param>
/// <param name="StartupRuns">Timed 4-rank start-ups of each implementation; the median is reported.</param>
/// <param name="Timeout">Limit for one launch.</param>
internal sealed record BridgeBenchOptions(IReadOnlyList<string> Parts, int Rounds, int Repeats, int StartupRuns, TimeSpan Timeout)
{
    /// <summary>
    /// <c>pingpong</c>: C# rank ⇄ Python rank in one job (and native C); <c>hosted</c>: mpi4py_bench.py under our host
    /// and under plain python; <c>startup</c>: a 4-rank job that imports mpi4py and numpy; <c>arrays</c>: a .NET array
    /// handed to numpy inside a rank, beside memcpy.
    /// </summary>
    public static readonly IReadOnlyList<string> AllParts = ["pingpong", "hosted", "startup", "arrays"];

    /// <summary>The fewest start-ups per implementation whose median means something on a noisy 2-core machine.</summary>
    public const int MinimumStartupRuns = 5;

    /// <summary>Defaults: everything, 3 rounds of 7 repeats (as <c>bench mpi</c>), 7 start-ups each.</summary>
    public static BridgeBenchOptions Default => new(AllParts, Rounds: 3, Repeats: 7, StartupRuns: 7, Timeout: TimeSpan.FromSeconds(180));

    public static BridgeBenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = Default;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--parts":
                    var parts = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var unknown = parts.Except(AllParts).ToList();
                    if (parts.Length == 0 || unknown.Count > 0)
                        throw new UsageException($"--parts takes a comma list of {string.Join(",", AllParts)}; unknown: {string.Join(",", unknown)}");
                    o = o with { Parts = AllParts.Where(parts.Contains).ToList() };
                    break;
                case "--rounds": o = o with { Rounds = PositiveInt("--rounds", Value()) }; break;
                case "--repeats": o = o with { Repeats = PositiveInt("--repeats", Value()) }; break;
                case "--startup-runs":
                    string runs = Value();
                    int n = PositiveInt("--startup-runs", runs);
                    o = n >= MinimumStartupRuns ? o with { StartupRuns = n }
                        : throw new UsageException($"--startup-runs needs at least {MinimumStartupRuns} runs for a meaningful median, not '{runs}'.");
                    break;
                case "--timeout": o = o with { Timeout = TimeSpan.FromSeconds(PositiveInt("--timeout", Value())) }; break;
                default:
                    throw new UsageException($"unknown option '{args[i]}' for bench bridge; use --parts {string.Join(",", AllParts)}, " +
                                             "--rounds N, --repeats R, --startup-runs N (>= 5), --timeout SECONDS.");
            }
        }
        return o;
    }

    private static int PositiveInt(string option, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{option} needs a positive whole number, not '{value}'.");
}
