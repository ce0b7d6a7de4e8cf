using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using PyMpiBridge.Parallel;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// <c>worker parallel-csharp</c>: the metrics of <c>benchmarks/python/parallel_bench.py</c>, measured from the C# client
/// (<c>PyMpiBridge.Parallel</c>, no Python in this process) against the same kind of cluster (2 MPI engines), printed as
/// the script prints them (one JSON record per line, impl <c>ours-csharp</c>) so the suite tabulates them side by side.
/// The engines run the same work as the Python client's: a Python no-op (defined once, called by name), an identity
/// map over a list of ints, 64 MiB of float64 pushed and pulled: pulled as the Python client pulls (arrays over the
/// engines' memory files, <see cref="NdArray{T}"/>), and into <c>double[]</c> (<c>pull_array_64MiB_GBps</c>, one copy more).
/// </summary>
internal static class ParallelCSharpWorker
{
    public const string Impl = "ours-csharp";

    private sealed record Options(int Tasks, int MapItems, int Roundtrips, int Rounds);

    public static int Run(string[] args) => RunAsync(Parse(args)).GetAwaiter().GetResult();

    private static Options Parse(string[] args)
    {
        var o = new Options(2000, 20000, 300, 5); // the defaults of parallel_bench.py: the same work for both clients
        for (int i = 0; i < args.Length; i++)
        {
            int Next() => i + 1 < args.Length && int.TryParse(args[++i], out int v) && v > 0
                ? v : throw new UsageException($"{args[i - 1]} takes a positive number");
            o = args[i] switch
            {
                "--tasks" => o with { Tasks = Next() },
                "--map-items" => o with { MapItems = Next() },
                "--roundtrips" => o with { Roundtrips = Next() },
                "--rounds" => o with { Rounds = Next() },
                _ => throw new UsageException($"worker parallel-csharp: unknown option {args[i]} (--tasks, --map-items, --roundtrips, --rounds)"),
            };
        }
        return o;
    }

    /// <summary>
    /// Waits (at most 10 s) until the JIT has compiled nothing for half a second. .NET recompiles the methods the earlier
    /// metrics made hot (thousands of tasks) on a background thread, once new code stops appearing: measured here, 35–140
    /// methods and 30–190 ms of CPU landed inside the first two timed pushes, on a 2-core machine where the engines need
    /// both cores, while the Python client has nothing of the kind. Without the wait it settles 3–4 s later.
    /// </summary>
    private static async Task WaitForJitToSettle()
    {
        var clock = Stopwatch.StartNew();
        long seen = JitInfo.GetCompiledMethodCount();
        var quietSince = clock.Elapsed;
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && clock.Elapsed - quietSince < TimeSpan.FromMilliseconds(500))
        {
            await Task.Delay(50);
            long now = JitInfo.GetCompiledMethodCount();
            if (now != seen) (seen, quietSince) = (now, clock.Elapsed);
        }
    }

    private static void Emit(string metric, double value) =>
        Console.WriteLine(JsonSerializer.Serialize(new { name = "parallel", impl = Impl, metric, value }));

    private static async Task<int> RunAsync(Options o)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await Cluster.StartAsync(engines: 2);
        await using var client = await cluster.ConnectAsync();
        Emit("cluster_start_s", clock.Elapsed.TotalSeconds);
        await client[..].ExecuteAsync("def noop():\n    return None\n\ndef identity(x):\n    return x\n");

        var e0 = client[0];
        await e0.ApplyAsync<object>("noop");
        var samples = new double[o.Roundtrips];
        for (int i = 0; i < samples.Length; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await e0.ApplyAsync<object>("noop");
            samples[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
        }
        Array.Sort(samples);
        Emit("apply_roundtrip_us", samples[samples.Length / 2]);

        var lb = client.LoadBalancedView();
        var noop = PythonFunction.Named("noop");
        double best = 0;
        for (int round = 0; round < o.Rounds; round++)
        {
            long t = Stopwatch.GetTimestamp();
            var pending = new AsyncResult<object>[o.Tasks];
            for (int i = 0; i < pending.Length; i++) pending[i] = lb.ApplyAsync<object>(noop);
            foreach (var p in pending) await p;
            best = Math.Max(best, o.Tasks / Stopwatch.GetElapsedTime(t).TotalSeconds);
        }
        Emit("lb_tiny_tasks_per_s", best);

        var items = Enumerable.Range(0, o.MapItems).ToList();
        long start = Stopwatch.GetTimestamp();
        int[] mapped = await lb.MapAsync<int>(PythonFunction.Named("identity"), items);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (!mapped.SequenceEqual(items)) throw new InvalidOperationException("map returned wrong results");
        Emit("map_items_per_s", o.MapItems / seconds);

        var random = new Random(1);
        var a = LargeArrays.Allocate<double>(64 * (1 << 20) / 8); // in 2 MiB pages, as numpy's array is
        for (int i = 0; i < a.Length; i++) a[i] = random.NextDouble();
        var view = client[..];
        // warm: connections, and the code of a round (memory files both ways, the checks) run once with a small array, as
        // the script warms with one; then the JIT is let finish (the Python client has no JIT to warm, see WaitForJitToSettle)
        var warm = a.AsSpan(0, 1 << 18).ToArray(); // 2 MiB: passes as a memory file
        await view.PushAsync("a", warm);
        NdArray<double>[] warmViews = await view.PullAsync<NdArray<double>>("a");
        bool warmSame = warmViews.All(p => p.Span.SequenceEqual(warm));
        foreach (var p in warmViews) p.Dispose();
        warmSame &= (await view.PullAsync<double[]>("a")).All(p => p.AsSpan().SequenceEqual(warm));
        if (!warmSame) throw new InvalidOperationException("pull returned different data");
        await WaitForJitToSettle();
        double bestPush = 0, bestPull = 0, bestPullArray = 0;
        long bytes = 2L * a.Length * sizeof(double);
        for (int round = 0; round < o.Rounds; round++)
        {
            long t = Stopwatch.GetTimestamp();
            await view.PushAsync("a", a);
            bestPush = Math.Max(bestPush, bytes / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9);
            // as the Python client's pull: numpy arrays over the engines' memory files, mapped here without a copy
            t = Stopwatch.GetTimestamp();
            NdArray<double>[] views = await view.PullAsync<NdArray<double>>("a");
            bestPull = Math.Max(bestPull, bytes / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9);
            bool same = views.All(p => p.Span.SequenceEqual(a));
            foreach (var p in views) p.Dispose(); // as the script's `del pulled`
            if (!same) throw new InvalidOperationException("pull returned different data");
        }
        // Into .NET arrays (one copy while receiving), in rounds of their own: freeing 128 MiB of huge pages makes the
        // next memory file slower to fill on VMs that hand freed memory back to the host, which would charge the pushes.
        for (int round = 0; round < o.Rounds; round++)
        {
            long t = Stopwatch.GetTimestamp();
            double[][] pulled = await view.PullAsync<double[]>("a");
            bestPullArray = Math.Max(bestPullArray, bytes / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9);
            if (!pulled.All(p => p.AsSpan().SequenceEqual(a))) throw new InvalidOperationException("pull returned different data");
        }
        Emit("push_64MiB_GBps", bestPush);
        Emit("pull_64MiB_GBps", bestPull);
        Emit("pull_array_64MiB_GBps", bestPullArray);
        return 0;
    }
}
