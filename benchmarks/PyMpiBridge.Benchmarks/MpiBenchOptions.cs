using System.CommandLine;
using PyMpiBridge.Options;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Options of <c>pympi bench mpi</c>:
/// <c>[--impl c,csharp,mpi4py] [--rounds N] [--repeats R] [--thread-level single|multiple] [--timeout SECONDS]</c>.
/// </summary>
internal sealed record MpiBenchOptions(IReadOnlyList<string> Impls, int Rounds, int Repeats, string ThreadLevel, TimeSpan Timeout)
{
    public static readonly IReadOnlyList<string> AllImpls = ["c", "csharp", "mpi4py"];

    /// <summary>
    /// Defaults: every implementation, 3 interleaved rounds (odd, for a median) of 7 timed repeats each.
    /// Each program reports its best repeat; the suite reports the median round. All programs initialize MPI
    /// at MPI_THREAD_MULTIPLE, the level the bridge and mpi4py run at.
    /// </summary>
    public static MpiBenchOptions Default => new(AllImpls, Rounds: 3, Repeats: 7, ThreadLevel: "multiple", Timeout: TimeSpan.FromSeconds(180));

    private static readonly Option<IReadOnlyList<string>> ImplOption = BenchCli.CommaList("--impl", AllImpls, "implementations to measure");
    private static readonly Option<int> RoundsOption = BenchCli.PositiveInt("--rounds", "N", "interleaved launches of each implementation; the median is reported", Default.Rounds);
    private static readonly Option<int> RepeatsOption = BenchCli.PositiveInt("--repeats", "R", "timed repeats inside one launch; its best is that launch's value", Default.Repeats);
    private static readonly Option<string> ThreadLevelOption = OptionShapes.OneOf("--thread-level", "MPI thread level every program initializes", "multiple", "single");
    private static readonly Option<int> TimeoutOption = BenchCli.PositiveInt("--timeout", "SECONDS", "limit for one launch", (int)Default.Timeout.TotalSeconds);

    /// <summary>The suite's options, on its command of the benchmark program.</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in new Option[] { ImplOption, RoundsOption, RepeatsOption, ThreadLevelOption, TimeoutOption }) command.Add(option);
    }

    /// <summary>The options of a parsed command line without errors.</summary>
    public static MpiBenchOptions From(ParseResult r) => new(
        r.GetValue(ImplOption)!, r.GetValue(RoundsOption), r.GetValue(RepeatsOption), r.GetValue(ThreadLevelOption)!,
        TimeSpan.FromSeconds(r.GetValue(TimeoutOption)));

    /// <summary>Parses the suite's words (after <c>pympi bench mpi</c>); bad input throws <see cref="UsageException"/>.</summary>
    public static MpiBenchOptions Parse(IReadOnlyList<string> args)
    {
        var command = new RootCommand();
        AddTo(command);
        return From(BenchCli.ParseOrThrow(command, args));
    }
}
