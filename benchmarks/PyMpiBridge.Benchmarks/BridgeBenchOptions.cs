using System.CommandLine;

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

    private static readonly Option<IReadOnlyList<string>> PartsOption = BenchCli.CommaList("--parts", AllParts, "measurements to take");
    private static readonly Option<int> RoundsOption = BenchCli.PositiveInt("--rounds", "N", "interleaved launches of each ping-pong program; the median is reported", Default.Rounds);
    private static readonly Option<int> RepeatsOption = BenchCli.PositiveInt("--repeats", "R", "timed repeats inside one launch; its best is that launch's value", Default.Repeats);
    private static readonly Option<int> StartupRunsOption = BenchCli.PositiveInt(
        "--startup-runs", "N", "timed 4-rank start-ups of each implementation; the median is reported", Default.StartupRuns,
        MinimumStartupRuns, "runs for a meaningful median");
    private static readonly Option<int> TimeoutOption = BenchCli.PositiveInt("--timeout", "SECONDS", "limit for one launch", (int)Default.Timeout.TotalSeconds);

    /// <summary>The suite's options, on its command of the benchmark program.</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in new Option[] { PartsOption, RoundsOption, RepeatsOption, StartupRunsOption, TimeoutOption }) command.Add(option);
    }

    /// <summary>The options of a parsed command line without errors (parts in their canonical order).</summary>
    public static BridgeBenchOptions From(ParseResult r) => new(
        AllParts.Where(r.GetValue(PartsOption)!.Contains).ToList(), r.GetValue(RoundsOption), r.GetValue(RepeatsOption),
        r.GetValue(StartupRunsOption), TimeSpan.FromSeconds(r.GetValue(TimeoutOption)));

    /// <summary>Parses the suite's words (after <c>pympi bench bridge</c>); bad input throws <see cref="UsageException"/>.</summary>
    public static BridgeBenchOptions Parse(IReadOnlyList<string> args)
    {
        var command = new RootCommand();
        AddTo(command);
        return From(BenchCli.ParseOrThrow(command, args));
    }
}
