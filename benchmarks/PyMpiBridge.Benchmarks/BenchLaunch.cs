using System.Diagnostics;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// How a suite starts one benchmark program under mpiexec and reads its records — shared by <c>bench mpi</c> and
/// <c>bench bridge</c>, so every program of every suite is launched, checked and summarized the same way.
/// </summary>
/// <param name="Impl">The implementation name the records carry in the table.</param>
/// <param name="Program">What mpiexec starts in each rank.</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="PrintedImpl">The impl the program writes into its records, when it differs from <paramref name="Impl"/>
/// (the same program measured in another setting, e.g. mpi4py_bench.py under our host).</param>
/// <param name="AlsoPrints">Further implementations the program measures and names itself (e.g. a memcpy beside ours).</param>
internal sealed record BenchLaunch(string Impl, string Program, IReadOnlyList<string> Arguments, string? PrintedImpl = null,
    IReadOnlyList<string>? AlsoPrints = null)
{
    /// <summary>
    /// Open MPI gives ranks a pseudo-terminal as stdout, and with a real TERM the .NET console then
    /// writes terminal set-up sequences in front of the first record. A dumb terminal has none.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string> { ["TERM"] = "dumb" };

    /// <summary>
    /// Runs every launch <paramref name="rounds"/> times, rotating the order each round so no implementation always runs
    /// right after another (caches, CPU frequency, a neighbour's build): interleaving spreads that noise. Records go to
    /// <paramref name="measured"/>; an implementation that fails is reported once, kept in <paramref name="failures"/>,
    /// and skipped in later rounds.
    /// </summary>
    public static async Task RunRoundsAsync(string suite, IReadOnlyList<BenchLaunch> launches, int rounds, int ranks, TimeSpan timeout,
        Func<string, string> describe, List<BenchRecord> measured, Dictionary<string, string> failures)
    {
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < launches.Count; k++)
            {
                var launch = launches[(round + k) % launches.Count];
                if (failures.ContainsKey(launch.Impl)) continue;
                Console.Write($"{suite}: round {round + 1}/{rounds}: {describe(launch.Impl)} ... ");
                try
                {
                    var (records, elapsed) = await launch.RunOnceAsync(ranks, timeout);
                    measured.AddRange(records);
                    Console.WriteLine($"{records.Count} records in {elapsed.TotalSeconds:F1} s");
                }
                catch (Exception e) when (e is BenchLaunchException or FormatException)
                {
                    Console.WriteLine("FAILED");
                    Console.Error.WriteLine($"{suite}: {launch.Impl} failed: {e.Message}");
                    failures[launch.Impl] = e.Message;
                }
            }
        }
    }

    /// <summary>Runs the program once on <paramref name="ranks"/> ranks; returns its records (named <see cref="Impl"/>) and the wall time.</summary>
    /// <exception cref="BenchLaunchException">It timed out, failed, or printed no records.</exception>
    /// <exception cref="FormatException">It printed a malformed record.</exception>
    public async Task<(IReadOnlyList<BenchRecord> Records, TimeSpan Elapsed)> RunOnceAsync(int ranks, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var result = await MpiLauncher.RunAsync(ranks, Program, Arguments, timeout, environment: Environment);
        if (result.TimedOut)
            throw new BenchLaunchException($"did not finish within {timeout.TotalSeconds:F0} s and was killed (raise --timeout if the machine is busy).\n{Tail(result.Stderr)}");
        if (result.ExitCode != 0)
            throw new BenchLaunchException($"exited with code {result.ExitCode}.\n{Tail(result.Stderr)}{Hint(result.Stderr)}");
        string printed = PrintedImpl ?? Impl;
        var records = BenchRecordLines.Parse(result.StdoutLines, printed, AlsoPrints ?? []);
        if (records.Count == 0)
            throw new BenchLaunchException($"printed no benchmark records.\n{Tail(result.Stderr)}");
        if (PrintedImpl is not null) records = records.Select(r => r.Impl == printed ? r with { Impl = Impl } : r).ToList();
        return (records, clock.Elapsed);
    }

    /// <summary>
    /// Per (name, metric, size, impl): the median over rounds. Within a launch each program keeps its best
    /// repeat (noise inside a run only adds time); across launches the median, because a launch can also be
    /// luckier than usual — where the hypervisor places the two vCPUs changes from process to process and
    /// moved an 8-byte ping-pong from 0.25 to 0.11 µs once here — and one lucky round must not set a ratio.
    /// </summary>
    public static IReadOnlyList<BenchRecord> MedianPerKey(IEnumerable<BenchRecord> records)
        => records
            .GroupBy(r => (r.Name, r.Metric, r.SizeBytes, r.Impl))
            .Select(g =>
            {
                var sorted = g.OrderBy(r => r.Value).ToList();
                int n = sorted.Count;
                double median = n % 2 == 1 ? sorted[n / 2].Value : (sorted[n / 2 - 1].Value + sorted[n / 2].Value) / 2;
                return sorted[0] with { Value = median };
            })
            .ToList();

    /// <summary>The last lines of a program's stderr, for a failure message.</summary>
    public static string Tail(string text, int lines = 15)
    {
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.TakeLast(lines));
    }

    private static string Hint(string stderr) =>
        stderr.Contains("ModuleNotFoundError") ? "\nhint: apt-get install python3-mpi4py python3-numpy"
        : stderr.Contains("libmpi") ? "\nhint: the C# binding loads libmpi.so.40; apt-get install libopenmpi-dev"
        : "";

    /// <summary>
    /// Both ranks busy-poll a core each, so any other load on a small machine lands directly in the numbers
    /// (seen here: a 3 s run taking 30 s and ratios off by 2x). Say so up front rather than print a table that lies.
    /// </summary>
    public static void WarnIfBusy(string suite)
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            double load = double.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture);
            if (load > System.Environment.ProcessorCount * 0.5)
                Console.Error.WriteLine($"{suite}: warning: load average is {load:F1} on {System.Environment.ProcessorCount} cores; other processes will distort the results. Run on an idle machine (or raise --rounds).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // No /proc (not Linux): nothing to warn about.
        }
    }
}

/// <summary>A benchmark program did not run to a usable end.</summary>
internal sealed class BenchLaunchException(string message) : Exception(message);
