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

    public static async Task<int> RunAsync(string[] args)
    {
        string? suiteName = null, jsonPath = null;
        var suiteArgs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json":
                    jsonPath = i + 1 < args.Length ? args[++i] : throw new UsageException("--json needs a file name.");
                    break;
                default:
                    if (suiteName is null && !args[i].StartsWith('-')) suiteName = args[i];
                    else suiteArgs.Add(args[i]);
                    break;
            }
        }
        if (suiteName is null)
            throw new UsageException($"name a suite: {string.Join("|", Suites.Keys)}|all");
        IEnumerable<(string, IBenchSuite)> selected = suiteName == "all"
            ? Suites.Select(kv => (kv.Key, kv.Value))
            : Suites.TryGetValue(suiteName, out var s) ? [(suiteName, s)]
            : throw new UsageException($"unknown suite '{suiteName}'; choose one of {string.Join(", ", Suites.Keys)}, all.");

        var all = new List<BenchRecord>();
        var incomplete = new List<string>();
        foreach (var (name, suite) in selected)
        {
            IReadOnlyList<BenchRecord> records;
            try { records = await suite.RunAsync(suiteArgs); }
            catch (BenchIncompleteException e) { records = e.PartialRecords; incomplete.Add(e.Message); }
            BenchReport.PrintTable($"pympi bench {name}", records, suite.BaselineImpl);
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

    Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args);
}
