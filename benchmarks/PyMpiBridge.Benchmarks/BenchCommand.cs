using System.CommandLine;

namespace PyMpiBridge.Benchmarks;

/// <summary><c>pympi bench mpi|python|bridge|parallel|all [--json FILE]</c>.</summary>
public static class BenchCommand
{
    private static readonly Dictionary<string, IBenchSuite> Suites = new()
    {
        ["mpi"] = new MpiBenchSuite(),
        ["python"] = new PythonBenchSuite(),
        ["bridge"] = new BridgeBenchSuite(),
        ["parallel"] = new ParallelBenchSuite(),
    };

    private static readonly string[] Descriptions =
    [
        "ping-pong and allreduce: native C, our C# binding, mpi4py (options: --impl, --rounds, --repeats, --thread-level, --timeout)",
        "calls and array hand-offs between C# and the embedded CPython, ours and pythonnet's side by side",
        "C# <-> Python in one job, mpi4py under our host, start-up, arrays (options: --parts, --rounds, --repeats, --startup-runs, --timeout)",
        "ours (Python and C# clients) vs ipyparallel 7.1 vs mpi4py.futures; options go to benchmarks/python/parallel_bench.py (--impl ours --tasks 500 ...), --impl ours-csharp selects the C# client; --scale [--engines 2,8,32,128] measures start and tiny tasks on growing clusters",
    ];

    /// <summary>
    /// The program's command line (parse <c>["bench", ..args]</c>): one command per suite with that suite's options, <c>all</c>, and <c>--json</c>
    /// everywhere. The suites get the words after their name (without <c>--json</c>), already checked here.
    /// </summary>
    public static Command CreateRoot()
    {
        var json = new Option<string?>("--json") { Description = "also write every measurement to this JSON file", HelpName = "FILE", Recursive = true };
        var root = new Command("bench", "benchmarks against native C and the peers, side by side, with ratios") { json };
        int i = 0;
        foreach (var (name, suite) in Suites)
        {
            var command = new Command(name, Descriptions[i++]);
            if (suite is MpiBenchSuite) MpiBenchOptions.AddTo(command);
            else if (suite is BridgeBenchSuite) BridgeBenchOptions.AddTo(command);
            else if (suite is ParallelBenchSuite) command.TreatUnmatchedTokensAsErrors = false; // the script checks its own
            command.SetAction((result, _) => RunAsync([(name, suite)], SuiteArguments(result, json), result.GetValue(json)));
            root.Add(command);
        }
        var all = new Command("all", "every suite, each with its defaults");
        all.SetAction((result, _) => RunAsync(Suites.Select(kv => (kv.Key, kv.Value)), [], result.GetValue(json)));
        root.Add(all);
        root.SetAction(new Func<ParseResult, int>(_ => throw new UsageException($"name a suite: {string.Join("|", Suites.Keys)}|all.")));
        // Under a root named as users call it, so usage lines read "pympi bench mpi [options]": parse ["bench", ..args].
        return new Command("pympi") { new System.CommandLine.Help.HelpOption { Recursive = true }, root };
    }

    /// <summary>The words after the suite's name, without <c>--json FILE</c>.</summary>
    internal static List<string> SuiteArguments(ParseResult result, Option<string?> json)
    {
        var jsonResult = result.GetResult(json);
        var skip = jsonResult is null || jsonResult.Implicit ? [] : jsonResult.Tokens.Append(jsonResult.IdentifierToken!).ToHashSet(ReferenceEqualityComparer.Instance);
        return result.Tokens
            .SkipWhile(t => !ReferenceEquals(t, result.CommandResult.IdentifierToken)).Skip(1)
            .Where(t => !skip.Contains(t))
            .Select(t => t.Value).ToList();
    }

    private static async Task<int> RunAsync(IEnumerable<(string, IBenchSuite)> selected, IReadOnlyList<string> suiteArgs, string? jsonPath)
    {
        var all = new List<BenchRecord>();
        var incomplete = new List<string>();
        foreach (var (name, suite) in selected)
        {
            IReadOnlyList<BenchRecord> records;
            try { records = await suite.RunAsync(suiteArgs); }
            catch (BenchIncompleteException e) { records = e.PartialRecords; incomplete.Add(e.Message); }
            BenchReport.PrintTable($"pympi bench {name}", records, suite.BaselineImpl, suite.Comparisons, suite.Note);
            all.AddRange(records);
        }
        if (jsonPath is not null) BenchReport.WriteJson(jsonPath, all);
        foreach (string message in incomplete) Console.Error.WriteLine(message);
        return incomplete.Count == 0 ? 0 : 1;
    }
}

/// <summary>One family of benchmarks, run in one go so every implementation is measured side by side.</summary>
public interface IBenchSuite
{
    /// <summary>The implementation ratios are computed against (native C, memcpy...).</summary>
    string BaselineImpl { get; }

    /// <summary>Further ratio columns, one per (implementation, baseline) pair, e.g. ours against a peer.</summary>
    IReadOnlyList<(string Impl, string Baseline)> Comparisons => [];

    /// <summary>How the suite measured (what a reader needs to compare the columns), printed under its table.</summary>
    string? Note => null;

    Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args);
}
