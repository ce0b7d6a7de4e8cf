namespace PyMpiBridge.Benchmarks;

/// <summary>
/// <c>pympi bench mpi</c>: ping-pong (latency, bandwidth) and Allreduce (latency) on 2 ranks, for
/// native C (baseline), our C# binding and mpi4py with numpy buffers, measured side by side in one
/// run. All three programs follow the methodology in benchmarks/README.md and print BenchRecord JSON
/// lines; this suite builds, launches them in interleaved rounds, and reports each measurement's median round.
/// </summary>
public sealed class MpiBenchSuite : IBenchSuite
{
    private const int Ranks = 2;
    private const string Python = "/usr/bin/python3";

    public string BaselineImpl => "c";

    public async Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
    {
        var options = MpiBenchOptions.Parse(args);
        string root = RepoLayout.FindRoot();
        var launches = new List<BenchLaunch>();
        var failures = new Dictionary<string, string>();
        foreach (string impl in options.Impls)
        {
            // A missing compiler or interpreter costs that implementation only; the others still run.
            try { launches.Add(await PrepareAsync(impl, root, options)); }
            catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or TimeoutException)
            {
                Console.Error.WriteLine($"bench mpi: {impl} cannot run: {e.Message}");
                failures[impl] = e.Message;
            }
        }

        Console.WriteLine($"bench mpi: {Ranks} ranks, MPI thread level {options.ThreadLevel}, {options.Rounds} rounds x {options.Repeats} repeats (median round of best repeats)");
        BenchLaunch.WarnIfBusy("bench mpi");
        var measured = new List<BenchRecord>();
        await BenchLaunch.RunRoundsAsync("bench mpi", launches, options.Rounds, Ranks, options.Timeout,
            impl => $"{impl,-7}", measured, failures);

        var summary = BenchLaunch.MedianPerKey(measured);
        string? mismatch = DescribeMissingRecords(summary);
        if (mismatch is not null) Console.Error.WriteLine($"bench mpi: {mismatch}");
        if (failures.Count > 0)
            throw new BenchIncompleteException(
                $"bench mpi: {string.Join(", ", failures.Keys)} failed (see above); the table shows the others.", summary);
        return summary;
    }

    private static async Task<BenchLaunch> PrepareAsync(string impl, string root, MpiBenchOptions options)
    {
        string[] common = ["--repeats", options.Repeats.ToString(), "--thread-level", options.ThreadLevel];
        switch (impl)
        {
            case "c":
                string exe = await NativeBenchBuild.EnsureBuiltAsync(
                    Path.Combine(root, "benchmarks", "native", "mpi_bench.c"),
                    Path.Combine(root, "artifacts", "native", "mpi_bench"));
                return new BenchLaunch(impl, exe, common);
            case "csharp":
                // The worker lives in this very program (hidden command `worker mpi`).
                string dll = typeof(MpiBenchSuite).Assembly.Location;
                return new BenchLaunch(impl, "dotnet", [dll, BenchWorkerCommand.Name, "mpi", .. common]);
            case "mpi4py":
                if (!File.Exists(Python))
                    throw new FileNotFoundException($"{Python} is missing; mpi4py is benchmarked with Debian's Python. Install it: apt-get install python3-mpi4py python3-numpy");
                string script = Path.Combine(root, "benchmarks", "python", "mpi4py_bench.py");
                if (!File.Exists(script)) throw new FileNotFoundException($"benchmark script {script} is missing.", script);
                return new BenchLaunch(impl, Python, [script, .. common]);
            default:
                throw new UsageException($"unknown implementation '{impl}'.");
        }
    }

    /// <summary>Every implementation must measure what the baseline measured; a gap means the programs drifted apart.</summary>
    private static string? DescribeMissingRecords(IReadOnlyList<BenchRecord> summary)
    {
        var keys = summary.Select(r => (r.Name, r.Metric, r.SizeBytes)).ToHashSet();
        var gaps = summary.GroupBy(r => r.Impl)
            .Select(g => (impl: g.Key, missing: keys.Count - g.Count()))
            .Where(x => x.missing > 0)
            .Select(x => $"{x.impl} lacks {x.missing} of {keys.Count} measurements")
            .ToList();
        return gaps.Count == 0 ? null : "the implementations measured different things: " + string.Join("; ", gaps) + ". Keep the three programs' size lists in sync.";
    }
}
