using System.Text.Json;
using PyMpiBridge.Mpi;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// The C# side of <c>pympi bench mpi</c> (impl "csharp"): runs inside each rank as the hidden command
/// <c>mpiexec -n 2 dotnet PyMpiBridge.Benchmarks.dll worker mpi [--repeats R]</c> and measures our binding.
/// </summary>
/// <remarks>
/// METHODOLOGY (identical in mpi_bench.c, mpi4py_bench.py and MpiBenchWorker.cs;
/// see benchmarks/README.md). Any change here must be made in all three.
/// <list type="bullet">
/// <item>Exactly 2 ranks. Buffers are allocated once per size and touched before timing. Here they are
/// pinned (<see cref="GC.AllocateArray{T}(int, bool)"/>), so the numbers measure the binding, not the GC.</item>
/// <item>MPI thread level: Multiple by default (<c>--thread-level single|multiple</c>), the level our bridge
/// and mpi4py run at. Open MPI takes locks on its fast paths at Multiple, so comparing a Single baseline with
/// a Multiple binding would measure Open MPI's locking, not the binding.</item>
/// <item>iterations(size) = clamp(2^27 / size, 10, 10000): many for small messages, few for 16 MiB.</item>
/// <item>warm-up: max(2, iterations / 10) untimed iterations before the first repeat.</item>
/// <item>repeats: R (default 9, <c>--repeats R</c>); each repeat starts with Barrier, then times
/// <c>iterations</c> operations with Wtime on rank 0.</item>
/// <item>The reported value is the BEST repeat (minimum time): on a shared 2-core machine the noise only
/// ever adds time, so the minimum is the most reproducible estimate of the cost.</item>
/// <item>ping-pong (ranks 0 &lt;-&gt; 1, bytes, tag 1): latency_us = half round-trip time;
/// bandwidth_MBps = size / (half round trip) / 1e6, reported for sizes &gt;= 1 KiB.
/// Sizes: 8 B, 1 KiB, 64 KiB, 1 MiB, 16 MiB.</item>
/// <item>allreduce (double, Sum on all ranks): latency_us = time per call.
/// Sizes: 8 B * 4^k up to 8 MiB (8 B, 32 B, ..., 2 MiB, 8 MiB).</item>
/// <item>Results are checked after timing (echoed pattern; sum of rank+1), so a broken implementation
/// fails loudly instead of producing fast nonsense.</item>
/// <item>Output: one BenchRecord JSON line per measurement on rank 0's stdout.</item>
/// </list>
/// </remarks>
internal static class MpiBenchWorker
{
    private const string Impl = "csharp";
    private const int Tag = 1;
    internal static readonly int[] PingPongSizes = [8, 1 << 10, 64 << 10, 1 << 20, 16 << 20];

    public static int Run(IReadOnlyList<string> args)
    {
        int repeats = 9;
        var level = ThreadLevel.Multiple;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--repeats" && i + 1 < args.Count && int.TryParse(args[++i], out repeats) && repeats > 0) continue;
            if (args[i] == "--thread-level" && i + 1 < args.Count && args[++i] is "single" or "multiple")
            {
                level = args[i] == "single" ? ThreadLevel.Single : ThreadLevel.Multiple;
                continue;
            }
            throw new UsageException("worker mpi takes --repeats R (R > 0) and --thread-level single|multiple; it is started by 'pympi bench mpi'.");
        }

        var provided = MpiEnvironment.Init(level);
        try
        {
            var comm = Comm.World;
            if (provided < level && comm.Rank == 0)
                Console.Error.WriteLine($"worker mpi: asked for thread level {level}, MPI provides only {provided}");
            if (comm.Size != 2)
            {
                if (comm.Rank == 0) Console.Error.WriteLine($"worker mpi: run on exactly 2 ranks (mpiexec -n 2), not {comm.Size}");
                return 2; // every rank sees the same size, so all leave together
            }
            foreach (int size in PingPongSizes) PingPong(comm, size, repeats);
            for (int size = 8; size <= 8 << 20; size *= 4) Allreduce(comm, size, repeats);
        }
        finally
        {
            MpiEnvironment.Finalize();
        }
        return 0;
    }

    internal static int IterationsFor(long size) => (int)Math.Clamp((1L << 27) / size, 10, 10000);

    internal static int WarmupFor(int iterations) => Math.Max(2, iterations / 10);

    /// <summary>One ping-pong size, by the methodology above; rank 0 prints the records as <paramref name="impl"/>.
    /// <c>bench bridge</c> runs rank 0's half of it against a Python rank 1.</summary>
    internal static void PingPong(Comm comm, int size, int repeats, string impl = Impl)
    {
        byte[] outBuf = GC.AllocateArray<byte>(size, pinned: true);
        byte[] inBuf = GC.AllocateArray<byte>(size, pinned: true);
        for (int i = 0; i < size; i++) outBuf[i] = (byte)(i % 251);

        int iterations = IterationsFor(size);
        PingPongLoop(comm, outBuf, inBuf, WarmupFor(iterations));
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            comm.Barrier();
            double t0 = MpiEnvironment.Wtime();
            PingPongLoop(comm, outBuf, inBuf, iterations);
            best = Math.Min(best, MpiEnvironment.Wtime() - t0);
        }
        if (comm.Rank != 0) return;
        if (!outBuf.AsSpan().SequenceEqual(inBuf)) Fail("ping-pong: echoed data differs from what was sent");
        double halfRoundTrip = best / iterations / 2.0;
        Record("pingpong", size, "latency_us", halfRoundTrip * 1e6, impl);
        if (size >= 1024) Record("pingpong", size, "bandwidth_MBps", size / halfRoundTrip / 1e6, impl);
    }

    /// <summary>Rank 0 sends <paramref name="outBuf"/> and receives into <paramref name="inBuf"/>; rank 1 echoes.</summary>
    private static void PingPongLoop(Comm comm, byte[] outBuf, byte[] inBuf, int iterations)
    {
        ReadOnlySpan<byte> send = outBuf;
        Span<byte> recv = inBuf;
        if (comm.Rank == 0)
        {
            for (int i = 0; i < iterations; i++)
            {
                comm.Send(send, 1, Tag);
                comm.Recv(recv, 1, Tag);
            }
        }
        else
        {
            for (int i = 0; i < iterations; i++)
            {
                comm.Recv(recv, 0, Tag);
                comm.Send<byte>(recv, 0, Tag);
            }
        }
    }

    private static void Allreduce(Comm comm, int size, int repeats)
    {
        int count = size / sizeof(double);
        double[] sendBuf = GC.AllocateArray<double>(count, pinned: true);
        double[] recvBuf = GC.AllocateArray<double>(count, pinned: true);
        sendBuf.AsSpan().Fill(comm.Rank + 1);

        int iterations = IterationsFor(size);
        for (int i = 0; i < WarmupFor(iterations); i++) comm.Allreduce<double>(sendBuf, recvBuf, Op.Sum);
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            comm.Barrier();
            double t0 = MpiEnvironment.Wtime();
            for (int i = 0; i < iterations; i++) comm.Allreduce<double>(sendBuf, recvBuf, Op.Sum);
            best = Math.Min(best, MpiEnvironment.Wtime() - t0);
        }
        double expected = comm.Size * (comm.Size + 1) / 2.0;
        if (recvBuf[0] != expected || recvBuf[^1] != expected) Fail("allreduce: wrong sum");
        if (comm.Rank == 0) Record("allreduce", size, "latency_us", best / iterations * 1e6);
    }

    internal static void Record(string name, long size, string metric, double value, string impl = Impl)
        => Console.WriteLine(JsonSerializer.Serialize(new BenchRecord(name, impl, size, metric, value)));

    /// <summary>A wrong result must not become a number in the table: say what broke and end the job.</summary>
    private static void Fail(string what)
    {
        Console.Error.WriteLine($"worker mpi: {what}");
        Environment.Exit(1); // without Finalize: mpiexec then tears down the other rank
    }
}
