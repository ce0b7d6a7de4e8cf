using System.Globalization;

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

    public static MpiBenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = Default;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--impl":
                    var impls = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var unknown = impls.Except(AllImpls).ToList();
                    if (impls.Length == 0 || unknown.Count > 0)
                        throw new UsageException($"--impl takes a comma list of {string.Join(",", AllImpls)}; unknown: {string.Join(",", unknown)}");
                    o = o with { Impls = impls.Distinct().ToList() };
                    break;
                case "--rounds": o = o with { Rounds = PositiveInt("--rounds", Value()) }; break;
                case "--repeats": o = o with { Repeats = PositiveInt("--repeats", Value()) }; break;
                case "--thread-level":
                    string level = Value();
                    o = level is "single" or "multiple" ? o with { ThreadLevel = level }
                        : throw new UsageException($"--thread-level takes single or multiple, not '{level}'.");
                    break;
                case "--timeout": o = o with { Timeout = TimeSpan.FromSeconds(PositiveInt("--timeout", Value())) }; break;
                default:
                    throw new UsageException($"unknown option '{args[i]}' for bench mpi; use --impl c,csharp,mpi4py, --rounds N, --repeats R, --thread-level single|multiple, --timeout SECONDS.");
            }
        }
        return o;
    }

    private static int PositiveInt(string option, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{option} needs a positive whole number, not '{value}'.");
}
