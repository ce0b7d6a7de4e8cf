using PyMpiBridge.Launching;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// <c>pympi bench bridge</c>: what the bridge itself costs, each number beside its natural baseline from the same run.
/// <list type="bullet">
/// <item><c>pingpong</c> between a C# rank and a Python rank of one job of our host (impl <c>csharp-python</c>)
/// beside native C (<c>c</c>, the table's baseline);</item>
/// <item>the unmodified mpi4py_bench.py ping-pong under our host (<c>mpi4py-hosted</c>) beside plain
/// <c>mpiexec python</c> (<c>mpi4py</c>);</item>
/// <item><c>startup</c> of a 4-rank job that imports mpi4py and numpy and meets at a Barrier: our host
/// (<c>pympi</c>) beside <c>python</c>;</item>
/// <item><c>array_to_numpy</c> inside a rank: a .NET array handed to numpy (<c>csharp</c>) beside <c>memcpy</c>.</item>
/// </list>
/// The ping-pong programs are <c>bench mpi</c>'s, launched the same way (<see cref="BenchLaunch"/>), in interleaved
/// rounds with the median round reported; see benchmarks/README.md.
/// </summary>
public sealed class BridgeBenchSuite : IBenchSuite
{
    private const int PingPongRanks = 2;
    private const int StartupRanks = 4;
    private const string Python = "/usr/bin/python3";

    /// <summary>What each rank of the start-up job does: the imports every mpi4py program starts with, and one collective.</summary>
    internal const string StartupCode = "from mpi4py import MPI; import numpy; MPI.COMM_WORLD.Barrier()";

    public string BaselineImpl => "c";

    public async Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
    {
        var options = BridgeBenchOptions.Parse(args);
        string root = RepoLayout.FindRoot();
        BenchLaunch.WarnIfBusy("bench bridge");
        var failures = new Dictionary<string, string>();
        var launches = new List<BenchLaunch>();
        try { launches.AddRange(await PrepareAsync(options, root)); }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"bench bridge: cannot run: {e.Message}");
            failures["setup"] = e.Message;
        }

        var measured = new List<BenchRecord>();
        if (launches.Count > 0)
        {
            Console.WriteLine($"bench bridge: ping-pong and hand-offs on {PingPongRanks} ranks, {options.Rounds} rounds x {options.Repeats} repeats (median round of best repeats)");
            await BenchLaunch.RunRoundsAsync("bench bridge", launches, options.Rounds, PingPongRanks, options.Timeout,
                impl => $"{Describe(impl),-44}", measured, failures);
        }
        var summary = BenchLaunch.MedianPerKey(measured).ToList();
        if (options.Parts.Contains("startup")) summary.AddRange(await StartupAsync(options, failures));

        foreach (string line in BridgeBenchTargets.Describe(summary)) Console.WriteLine($"bench bridge: {line}");
        if (failures.Count > 0)
            throw new BenchIncompleteException(
                $"bench bridge: {string.Join(", ", failures.Keys)} failed (see above); the table shows the others.", summary);
        return summary;
    }

    private static async Task<List<BenchLaunch>> PrepareAsync(BridgeBenchOptions options, string root)
    {
        string[] common = ["--repeats", options.Repeats.ToString(), "--pingpong-only"];
        string dll = typeof(BridgeBenchSuite).Assembly.Location;
        string script = Path.Combine(root, "benchmarks", "python", "mpi4py_bench.py");
        var launches = new List<BenchLaunch>();
        bool pingPong = options.Parts.Contains("pingpong"), arrays = options.Parts.Contains("arrays");

        if (pingPong)
        {
            string exe = await NativeBenchBuild.EnsureBuiltAsync(
                Path.Combine(root, "benchmarks", "native", "mpi_bench.c"), Path.Combine(root, "artifacts", "native", "mpi_bench"));
            launches.Add(new BenchLaunch("c", exe, common));
        }
        // One job measures the C#⇄Python ping-pong and, on rank 0 afterwards, the array hand-offs.
        if (pingPong || arrays)
        {
            string[] worker = [dll, BenchWorkerCommand.Name, "bridge", "--repeats", options.Repeats.ToString(), .. pingPong ? ["--pingpong"] : Array.Empty<string>(), .. arrays ? ["--arrays"] : Array.Empty<string>()];
            launches.Add(pingPong
                ? new BenchLaunch(BridgeBenchWorker.PingPongImpl, "dotnet", worker, AlsoPrints: arrays ? ["csharp", "memcpy"] : null)
                : new BenchLaunch("csharp", "dotnet", worker, AlsoPrints: ["memcpy"]));
        }
        if (options.Parts.Contains("hosted"))
        {
            if (!File.Exists(Python))
                throw new FileNotFoundException($"{Python} is missing; mpi4py is benchmarked with Debian's Python. Install it: apt-get install python3-mpi4py python3-numpy");
            if (!File.Exists(script)) throw new FileNotFoundException($"benchmark script {script} is missing.", script);
            launches.Add(new BenchLaunch("mpi4py", Python, [script, .. common]));
            // Exactly what `pympi run -n 2 mpi4py_bench.py` starts in each rank; the script names its records "mpi4py".
            launches.Add(new BenchLaunch("mpi4py-hosted", "dotnet", [RepoLayout.PympiDll(), RepoLayout.PympiRankCommand, script, .. common], PrintedImpl: "mpi4py"));
        }
        return launches;
    }

    private static string Describe(string impl) => impl switch
    {
        "c" => "c (native ping-pong)",
        BridgeBenchWorker.PingPongImpl => "csharp-python (C# rank 0 <-> Python rank 1)",
        "csharp" => "csharp (array hand-offs in a rank)",
        "mpi4py" => "mpi4py (mpiexec python mpi4py_bench.py)",
        "mpi4py-hosted" => "mpi4py-hosted (the same under pympi)",
        _ => impl,
    };

    /// <summary>
    /// Wall time of <c>mpiexec -n 4</c> running <see cref="StartupCode"/> under our host and under python, alternating
    /// which goes first, after one untimed run of each (page cache, the host's remembered interpreter probe).
    /// Reported: the median of the runs, in seconds.
    /// </summary>
    private static async Task<IReadOnlyList<BenchRecord>> StartupAsync(BridgeBenchOptions options, Dictionary<string, string> failures)
    {
        string pympi = RepoLayout.PympiDll();
        var programs = new (string Impl, string Program, string[] Args)[]
        {
            ("pympi", "dotnet", [pympi, RepoLayout.PympiRankCommand, "-c", StartupCode]),
            ("python", Python, ["-c", StartupCode]),
        };
        var times = programs.ToDictionary(p => p.Impl, _ => new List<double>());
        Console.WriteLine($"bench bridge: start-up of a {StartupRanks}-rank job (import mpi4py, numpy; Barrier), {options.StartupRuns} runs each, interleaved, after one untimed run each");
        for (int run = -1; run < options.StartupRuns; run++)
        {
            for (int k = 0; k < programs.Length; k++)
            {
                var (impl, program, arguments) = programs[(Math.Max(run, 0) + k) % programs.Length];
                if (failures.ContainsKey(impl)) continue;
                var job = await MpiLauncher.RunAsync(StartupRanks, program, arguments, options.Timeout, environment: BenchLaunch.Environment);
                if (job.TimedOut || job.ExitCode != 0)
                {
                    string why = job.TimedOut ? $"did not finish within {options.Timeout.TotalSeconds:F0} s" : $"exited with code {job.ExitCode}";
                    Console.Error.WriteLine($"bench bridge: start-up {impl} {why}.\n{BenchLaunch.Tail(job.Stderr)}");
                    failures[impl] = why;
                    continue;
                }
                if (run < 0) continue; // the untimed first run
                times[impl].Add(job.Elapsed.TotalSeconds);
                Console.WriteLine($"bench bridge: start-up run {run + 1}/{options.StartupRuns}: {impl,-6} {job.Elapsed.TotalSeconds:F3} s");
            }
        }
        return times.Where(t => t.Value.Count > 0)
            .Select(t => new BenchRecord("startup", t.Key, 0, "s", Median(t.Value)))
            .ToList();
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
