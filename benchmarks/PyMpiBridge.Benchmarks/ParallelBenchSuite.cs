using System.Diagnostics;
using System.Text.Json;
using PyMpiBridge.Launching;
using PyMpiBridge.Python;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// <c>pympi bench parallel</c>: ipyparallel's programming model, ours against ipyparallel 7.1 (MPI engines) and
/// mpi4py.futures (2 workers, <c>mpiexec -n 3 python -m mpi4py.futures</c>), 2 engines each, on the same work. The measuring program is Python
/// (<c>benchmarks/python/parallel_bench.py</c>: all three are Python APIs); it runs each implementation in a process of
/// its own and prints JSON records, which this suite tabulates with ratios to ours and checks against the goals.
/// Options after the suite name go to the script (<c>--impl ours</c>, <c>--tasks N</c>, <c>--map-items N</c>, ...).
/// </summary>
public sealed class ParallelBenchSuite : IBenchSuite
{
    public const string Ours = "ours";

    public string BaselineImpl => Ours;

    public async Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
    {
        string root = RepoLayout.FindRoot();
        var python = PythonDiscovery.Locate();
        string script = Path.Combine(root, "benchmarks", "python", "parallel_bench.py");
        string state = Directory.CreateTempSubdirectory("pympi-bench-parallel-").FullName;
        var psi = new ProcessStartInfo(python.Executable) { UseShellExecute = false, RedirectStandardOutput = true };
        psi.ArgumentList.Add(script);
        foreach (string a in args) psi.ArgumentList.Add(a);
        ParallelLayerEnvironment.Apply(psi.Environment, ParallelLayerEnvironment.Dotnet(RepoLayout.PympiDll()));
        psi.Environment["PYMPIBRIDGE_DIR"] = state;          // the clusters' files, away from the user's
        psi.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"; // mpi4py.futures runs 3 processes on 2 cores
        // the peers' engines are launched by their own mpiexec: the same permissions as ours (root, containers)
        MpiLauncher.ApplyEnvironment(psi.Environment, MpiFlavor.OpenMpi);
        psi.Environment["IPYTHONDIR"] = Path.Combine(state, "ipython");
        Console.WriteLine($"bench parallel: {python.Executable} {script} (ours, ipyparallel, mpi4py.futures; 2 engines each)");

        var records = new List<BenchRecord>();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python.Executable}");
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (ParseRecord(line) is { } record)
            {
                records.Add(record);
                Console.WriteLine($"  {record.Impl,-15} {record.Metric,-22} {record.Value,14:G6}");
            }
            else if (line.Length > 0) Console.WriteLine(line);
        }
        await process.WaitForExitAsync();
        try { Directory.Delete(state, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        foreach (string line in ParallelBenchTargets.Describe(records)) Console.WriteLine($"bench parallel: {line}");
        if (process.ExitCode != 0)
            throw new BenchIncompleteException($"pympi bench parallel: the measuring script failed (exit code {process.ExitCode}); the table holds what it measured.", records);
        return records;
    }

    /// <summary>One JSON record line of the script, or null for any other output.</summary>
    internal static BenchRecord? ParseRecord(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            return new BenchRecord(r.GetProperty("name").GetString()!, r.GetProperty("impl").GetString()!, 0,
                r.GetProperty("metric").GetString()!, r.GetProperty("value").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>The parallel layer's goals (issue 7), judged on one run's records: ratios are ours against a peer.</summary>
internal static class ParallelBenchTargets
{
    private sealed record Goal(string Metric, string Peer, double Factor, string Text);

    // Factor: ours / peer must be at least this (for rates and bandwidths) or at most this (for times).
    private static readonly Goal[] Goals =
    [
        new("lb_tiny_tasks_per_s", "ipyparallel", 100, ">= 100x ipyparallel"),
        new("lb_tiny_tasks_per_s", "mpi4py.futures", 0.5, ">= 0.5x mpi4py.futures"),
        new("apply_roundtrip_us", "mpi4py.futures", 2, "<= 2x mpi4py.futures"),
        new("push_64MiB_GBps", "ipyparallel", 5, ">= 5x ipyparallel"),
        new("pull_64MiB_GBps", "ipyparallel", 5, ">= 5x ipyparallel"),
        new("cluster_start_s", "ipyparallel", 0.25, "<= 0.25x ipyparallel"),
    ];

    public static IReadOnlyList<string> Describe(IReadOnlyList<BenchRecord> records)
    {
        var lines = new List<string>();
        foreach (var goal in Goals)
        {
            var ours = records.LastOrDefault(r => r.Impl == ParallelBenchSuite.Ours && r.Metric == goal.Metric);
            var peer = records.LastOrDefault(r => r.Impl == goal.Peer && r.Metric == goal.Metric);
            if (ours is null || peer is null || peer.Value == 0) continue;
            double ratio = ours.Value / peer.Value;
            bool met = ours.HigherIsBetter ? ratio >= goal.Factor : ratio <= goal.Factor;
            lines.Add($"{goal.Metric}: ours {ours.Value:G4} vs {goal.Peer} {peer.Value:G4} = {ratio:G3}x; goal {goal.Text}: {(met ? "met" : "MISSED")}");
        }
        return lines;
    }
}
