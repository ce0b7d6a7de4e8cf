using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// A quick ping-pong between ranks 0 and 1 (8 B latency, 1 MiB bandwidth) for eyeballing the hot path by hand:
/// <c>mpiexec -n 2 dotnet PyMpiBridge.ScenarioHost.dll pingpong</c>. Not used by tests: speed is the benchmark's job.
/// </summary>
public static class PingPongScenario
{
    public static void Register(ScenarioRegistry add) => add("pingpong", Run);

    private static void Run(ScenarioContext ctx)
    {
        var w = ctx.World;
        if (w.Size != 2) throw new InvalidOperationException("pingpong needs exactly 2 ranks");
        Measure(ctx, w, 1, 20_000, 200_000);
        Measure(ctx, w, 1 << 17, 50, 500);     // 1 MiB of doubles
    }

    private static void Measure(ScenarioContext ctx, Comm w, int count, int warmup, int iterations)
    {
        var buffer = new double[count];
        int peer = 1 - ctx.Rank;
        for (int phase = 0; phase < 2; phase++)
        {
            int n = phase == 0 ? warmup : iterations;
            w.Barrier();
            double t0 = MpiEnvironment.Wtime();
            for (int i = 0; i < n; i++)
            {
                if (ctx.Rank == 0)
                {
                    w.Send<double>(buffer, peer, 0);
                    w.Recv<double>(buffer, peer, 0);
                }
                else
                {
                    w.Recv<double>(buffer, peer, 0);
                    buffer[^1] = i; // stamps the round, so rank 0 can tell the replies came back
                    w.Send<double>(buffer, peer, 0);
                }
            }
            double elapsed = MpiEnvironment.Wtime() - t0;
            if (phase == 1 && ctx.Rank == 0)
            {
                double oneWay = elapsed / n / 2;
                ctx.Check($"pingpong {count * 8} B", buffer[^1] == n - 1, $"{oneWay * 1e6:F3} us one-way, {count * 8 / oneWay / 1e9:F2} GB/s");
            }
        }
    }
}
