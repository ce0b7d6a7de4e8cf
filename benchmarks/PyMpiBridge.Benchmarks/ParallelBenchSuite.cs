using System.Diagnostics;
using System.Text.Json;
using PyMpiBridge.Launching;
using PyMpiBridge.Python;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// <c>pympi bench parallel</c>: ipyparallel's programming model, ours against ipyparallel 7.1 (MPI engines) and
/// mpi4py.futures (2 workers, <c>mpiexec -n 3 python -m mpi4py.futures</c>), 2 engines each, on the same work. The measuring program is Python
/// (<c>benchmarks/python/parallel_bench.py</c>: all three are Python APIs); it runs each implementation in a process of
/// its own and prints JSON records, which this suite tabulates with ratios to ours and checks against the goals. The
/// C# client of the same engines (<c>ours-csharp</c>) is measured the same way by <see cref="ParallelCSharpWorker"/>.
/// Options after the suite name go to the script (<c>--impl ours</c>, <c>--tasks N</c>, <c>--map-items N</c>, ...);
/// <c>--impl ours-csharp</c> selects the C# client, and the counts apply to it too.
/// </summary>
public sealed class ParallelBenchSuite : IBenchSuite
{
    public const string Ours = "ours";

    public string BaselineImpl => Ours;

    /// <summary>The options both programs take, with a value (the C# worker ignores the rest).</summary>
    private static readonly string[] SharedOptions = ["--tasks", "--map-items", "--roundtrips", "--rounds"];

    public async Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
    {
        var (scriptArgs, runScript, workerArgs, runCSharp, timeout) = Split(args);
        string state = Directory.CreateTempSubdirectory("pympi-bench-parallel-").FullName;
        var records = new List<BenchRecord>();
        var failures = new List<string>();
        try
        {
            if (runScript) await RunScriptAsync(scriptArgs, state, records, failures);
            if (runCSharp) await RunCSharpClientAsync(workerArgs, state, timeout, records, failures);
        }
        finally
        {
            try { Directory.Delete(state, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        foreach (string line in ParallelBenchTargets.Describe(records)) Console.WriteLine($"bench parallel: {line}");
        if (failures.Count > 0)
            throw new BenchIncompleteException($"pympi bench parallel: {string.Join("; ", failures)}; the table holds what was measured.", records);
        return records;
    }

    /// <summary>
    /// The suite's words split between the script and the C# worker: <c>--impl ours-csharp</c> selects the worker (both
    /// run when no <c>--impl</c> is given); the counts (<c>--tasks</c>, ...) go to both; <c>--timeout</c> bounds each.
    /// </summary>
    internal static (List<string> Script, bool RunScript, List<string> Worker, bool RunCSharp, TimeSpan Timeout) Split(IReadOnlyList<string> args)
    {
        var script = new List<string>();
        var worker = new List<string>();
        var impls = new List<string>();
        var timeout = TimeSpan.FromSeconds(600);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string? value = i + 1 < args.Count ? args[i + 1] : null;
            if (a == "--impl" && value is not null)
            {
                impls.Add(value);
                i++;
                if (value != ParallelCSharpWorker.Impl) script.AddRange([a, value]);
                continue;
            }
            if (a == "--timeout" && double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out double seconds))
                timeout = TimeSpan.FromSeconds(seconds);
            if (SharedOptions.Contains(a) && value is not null) worker.AddRange([a, value]);
            script.Add(a);
        }
        bool all = impls.Count == 0;
        // --scale measures cluster sizes with the Python client against ipyparallel; the C# client talks to the same
        // engines and controller, so its 2-engine rows say what it adds
        bool scale = args.Contains("--scale");
        if (scale && impls.Count > 0 && impls.All(i => i == ParallelCSharpWorker.Impl))
            throw new ArgumentException($"--scale runs ours (the Python client) and ipyparallel on growing clusters; --impl {ParallelCSharpWorker.Impl} has no scaling run: drop --scale to measure the C# client");
        // any other --impl goes to the script, which knows (and checks) its own
        return (script, all || impls.Any(i => i != ParallelCSharpWorker.Impl), worker,
            !scale && (all || impls.Contains(ParallelCSharpWorker.Impl)), timeout);
    }

    private static ProcessStartInfo Start(string program, IEnumerable<string> arguments, string state)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        ParallelLayerEnvironment.Apply(psi.Environment, ParallelLayerEnvironment.Dotnet(RepoLayout.PympiDll()));
        psi.Environment["PYMPIBRIDGE_DIR"] = state;          // the clusters' files, away from the user's
        return psi;
    }

    private static async Task RunScriptAsync(List<string> args, string state, List<BenchRecord> records, List<string> failures)
    {
        string root = RepoLayout.FindRoot();
        var python = PythonDiscovery.Locate();
        string script = Path.Combine(root, "benchmarks", "python", "parallel_bench.py");
        var psi = Start(python.Executable, [script, .. args], state);
        psi.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"; // mpi4py.futures runs 3 processes on 2 cores
        // the peers' engines are launched by their own mpiexec: the same permissions as ours (root, containers)
        MpiLauncher.ApplyEnvironment(psi.Environment, MpiFlavor.OpenMpi);
        psi.Environment["IPYTHONDIR"] = Path.Combine(state, "ipython");
        string what = args.Contains("--scale") ? "ours and ipyparallel on growing clusters" : "ours, ipyparallel, mpi4py.futures; 2 engines each";
        Console.WriteLine($"bench parallel: {python.Executable} {script} ({what})");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python.Executable}");
        await ReadRecordsAsync(process, records);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) failures.Add($"the measuring script failed (exit code {process.ExitCode})");
    }

    /// <summary>The C# client's rows: this program's <c>worker parallel-csharp</c> in a process of its own, as each script implementation.</summary>
    private static async Task RunCSharpClientAsync(List<string> args, string state, TimeSpan timeout, List<BenchRecord> records, List<string> failures)
    {
        string self = typeof(ParallelBenchSuite).Assembly.Location;
        var psi = Start("dotnet", [self, BenchWorkerCommand.Name, "parallel-csharp", .. args], state);
        Console.WriteLine($"bench parallel: dotnet {Path.GetFileName(self)} {BenchWorkerCommand.Name} parallel-csharp (the C# client; 2 engines)");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the C# client worker");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await ReadRecordsAsync(process, records).WaitAsync(cts.Token);
            await process.WaitForExitAsync(cts.Token);
            if (process.ExitCode != 0) failures.Add($"the C# client worker failed (exit code {process.ExitCode})");
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            failures.Add($"the C# client worker did not finish within {timeout.TotalSeconds:0} s");
        }
    }

    private static async Task ReadRecordsAsync(Process process, List<BenchRecord> records)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (ParseRecord(line) is { } record)
            {
                records.Add(record);
                string at = record.Engines is { } n ? $" ({n} engines)" : "";
                Console.WriteLine($"  {record.Impl,-15} {record.Metric,-22} {record.Value,14:G6}{at}");
            }
            else if (line.Length > 0) Console.WriteLine(line);
        }
    }

    /// <summary>One JSON record line of the script, or null for any other output.</summary>
    internal static BenchRecord? ParseRecord(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            int? engines = r.TryGetProperty("engines", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32() : null;
            return new BenchRecord(r.GetProperty("name").GetString()!, r.GetProperty("impl").GetString()!, 0,
                r.GetProperty("metric").GetString()!, r.GetProperty("value").GetDouble(), engines);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// The parallel layer's goals (issues 7 and 8), judged on one run's records: ratios are an implementation (ours, or the
/// C# client) against a peer (or the Python client).
/// </summary>
internal static class ParallelBenchTargets
{
    private sealed record Goal(string Metric, string Peer, double Factor, string Text, string Impl = ParallelBenchSuite.Ours);

    // Factor: impl / peer must be at least this (for rates and bandwidths) or at most this (for times).
    private static readonly Goal[] Goals =
    [
        new("lb_tiny_tasks_per_s", "ipyparallel", 100, ">= 100x ipyparallel"),
        new("lb_tiny_tasks_per_s", "mpi4py.futures", 0.5, ">= 0.5x mpi4py.futures"),
        new("apply_roundtrip_us", "mpi4py.futures", 2, "<= 2x mpi4py.futures"),
        new("push_64MiB_GBps", "ipyparallel", 5, ">= 5x ipyparallel"),
        new("pull_64MiB_GBps", "ipyparallel", 5, ">= 5x ipyparallel"),
        new("cluster_start_s", "ipyparallel", 0.25, "<= 0.25x ipyparallel"),
        // the C# client moves arrays as fast as the Python client (issue 8); timings are noisy: 0.8 allows for it
        new("push_64MiB_GBps", ParallelBenchSuite.Ours, 0.8, "the Python client's speed", ParallelCSharpWorker.Impl),
        new("pull_64MiB_GBps", ParallelBenchSuite.Ours, 0.8, "the Python client's speed", ParallelCSharpWorker.Impl),
    ];

    public static IReadOnlyList<string> Describe(IReadOnlyList<BenchRecord> records)
    {
        var lines = new List<string>();
        // the goals are for the 2-engine runs; the scaling runs (records with an engine count) are a table of their own
        var standard = records.Where(r => r.Engines is null).ToList();
        foreach (var goal in Goals)
        {
            var mine = standard.LastOrDefault(r => r.Impl == goal.Impl && r.Metric == goal.Metric);
            var peer = standard.LastOrDefault(r => r.Impl == goal.Peer && r.Metric == goal.Metric);
            if (mine is null || peer is null || peer.Value == 0) continue;
            double ratio = mine.Value / peer.Value;
            bool met = mine.HigherIsBetter ? ratio >= goal.Factor : ratio <= goal.Factor;
            lines.Add($"{goal.Metric}: {goal.Impl} {mine.Value:G4} vs {goal.Peer} {peer.Value:G4} = {ratio:G3}x; goal {goal.Text}: {(met ? "met" : "MISSED")}");
        }
        return lines;
    }
}
