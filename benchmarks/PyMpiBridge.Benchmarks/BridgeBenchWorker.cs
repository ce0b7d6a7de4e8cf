using System.Diagnostics;
using System.Globalization;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// The in-rank side of <c>pympi bench bridge</c>: <c>mpiexec -n 2 dotnet PyMpiBridge.Benchmarks.dll worker bridge [--repeats R]
/// [--pingpong] [--arrays]</c>. Both ranks start a rank session (MPI, then the embedded Python sharing it).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Ping-pong (impl <c>csharp-python</c>): rank 0 runs the C# half of <c>bench mpi</c>'s ping-pong
/// (<see cref="MpiBenchWorker.PingPong"/>: our binding, pinned arrays); rank 1 runs the Python half of
/// benchmarks/python/mpi4py_bench.py (<c>bench_pingpong</c>: mpi4py, numpy buffers, uppercase Send/Recv) in the
/// embedded interpreter over the same MPI_COMM_WORLD. Same sizes, iterations, warm-up, repeats and checks as
/// <c>bench mpi</c>, because both halves are literally that code.</item>
/// <item>Arrays (impls <c>csharp</c> and <c>memcpy</c>, rank 0 only): a pinned .NET <c>double[]</c> handed to numpy
/// (<see cref="PyArray.From{T}(T[])"/> plus dispose, with the GIL taken per hand-off as a caller would) beside a
/// memcpy of the same bytes; iterations and warm-up as above, the two interleaved repeat by repeat, best repeat
/// reported in µs per operation.</item>
/// </list>
/// </remarks>
internal static class BridgeBenchWorker
{
    /// <summary>Impl of the C# rank 0 ⇄ Python rank 1 ping-pong.</summary>
    public const string PingPongImpl = "csharp-python";

    /// <summary>Sizes of the in-rank array hand-off.</summary>
    internal static readonly long[] ArraySizes = [8, 1L << 20, 64L << 20];

    public static int Run(IReadOnlyList<string> args)
    {
        int repeats = 9;
        bool pingPong = false, arrays = false;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--repeats" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out repeats) && repeats > 0:
                    i++;
                    break;
                case "--pingpong": pingPong = true; break;
                case "--arrays": arrays = true; break;
                default:
                    throw new UsageException("worker bridge takes --repeats R (R > 0), --pingpong and --arrays; it is started by 'pympi bench bridge'.");
            }
        }
        if (!pingPong && !arrays) pingPong = arrays = true;
        string scripts = Path.Combine(RepoLayout.FindRoot(), "benchmarks", "python");

        using var session = PyMpi.Start([], new RankSessionOptions { PythonPaths = [scripts] });
        var world = session.World;
        if (world.Size != 2)
        {
            if (world.Rank == 0) Console.Error.WriteLine($"worker bridge: run on exactly 2 ranks (mpiexec -n 2), not {world.Size}");
            return 2; // every rank sees the same size, so all leave together
        }
        if (pingPong)
        {
            if (world.Rank == 0)
                foreach (int size in MpiBenchWorker.PingPongSizes) MpiBenchWorker.PingPong(world, size, repeats, PingPongImpl);
            else
                PythonEchoes(MpiBenchWorker.PingPongSizes, repeats);
        }
        if (arrays && world.Rank == 0) Arrays(repeats);
        world.Barrier(); // rank 1 waits here while rank 0 measures the hand-offs
        return 0;
    }

    /// <summary>Rank 1: mpi4py_bench.py's own ping-pong, in the embedded interpreter, for the same sizes as rank 0.</summary>
    private static void PythonEchoes(IReadOnlyList<int> sizes, int repeats)
    {
        using var gil = Py.Gil();
        using var globals = Py.NewGlobals();
        Py.Exec("""
            import mpi4py_bench as bench
            from mpi4py import MPI
            bench.MPI = MPI  # the script sets it in main(); here MPI is already up (the host's)

            def echo(sizes, repeats):
                comm = MPI.COMM_WORLD
                for size in sizes:
                    bench.bench_pingpong(comm, comm.Get_rank(), size, repeats)
            """, globals);
        using var echo = globals["echo"];
        using var result = echo.Call(sizes.ToList(), repeats);
    }

    private static void Arrays(int repeats)
    {
        foreach (long bytes in ArraySizes)
        {
            int count = checked((int)(bytes / sizeof(double)));
            double[] source = GC.AllocateArray<double>(count, pinned: true);
            double[] target = GC.AllocateArray<double>(count, pinned: true);
            source.AsSpan().Fill(1.0);
            target.AsSpan().Fill(0.0);

            Action handOff = () =>
            {
                using var gil = Py.Gil();
                using var array = PyArray.From(source);
            };
            Action copy = () => source.AsSpan().CopyTo(target);
            // The hand-off's cost does not depend on the size (nothing is copied), so it gets a fixed, large count; the
            // copy's count scales with the size as in bench mpi. With the copy's count (10 at 64 MiB) one cold call after
            // a cache-flushing 64 MiB memcpy would dominate the hand-off's figure.
            var (handOffSeconds, copySeconds) = BestOfInterleaved(handOff, HandOffIterations, copy, MpiBenchWorker.IterationsFor(bytes), repeats);

            using (Py.Gil())
            using (var array = PyArray.From(source))
            using (var sum = array.CallMethod("sum"))
            using (var nbytes = array.GetAttr("nbytes"))
                if (nbytes.As<long>() != bytes || sum.As<double>() != count) Fail("array_to_numpy: numpy does not see the .NET array's data");
            if (target[^1] != 1.0) Fail("memcpy: the copy is incomplete");

            MpiBenchWorker.Record("array_to_numpy", bytes, "us", handOffSeconds * 1e6, "csharp");
            MpiBenchWorker.Record("array_to_numpy", bytes, "us", copySeconds * 1e6, "memcpy");
        }
    }

    /// <summary>Iterations per timed batch of a zero-copy hand-off, at every size.</summary>
    private const int HandOffIterations = 10_000;

    /// <summary>Warm-up, then <paramref name="repeats"/> alternating timed batches of each; the best per-iteration time of each.</summary>
    private static (double A, double B) BestOfInterleaved(Action a, int iterationsA, Action b, int iterationsB, int repeats)
    {
        Time(a, MpiBenchWorker.WarmupFor(iterationsA));
        Time(b, MpiBenchWorker.WarmupFor(iterationsB));
        double bestA = double.MaxValue, bestB = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            bestA = Math.Min(bestA, Time(a, iterationsA) / iterationsA);
            bestB = Math.Min(bestB, Time(b, iterationsB) / iterationsB);
        }
        return (bestA, bestB);
    }

    private static double Time(Action body, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++) body();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Fail(string what)
    {
        Console.Error.WriteLine($"worker bridge: {what}");
        Environment.Exit(1); // without Finalize: mpiexec then tears down the other rank
    }
}
