using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Isend/Irecv with Wait, Waitall, Waitany, Test, Testall, WaitAsync (+ cancellation), nonblocking collectives.</summary>
public static class NonblockingScenarios
{
    public static void Register(ScenarioRegistry add) => add("nonblocking", Run);

    private static void Run(ScenarioContext ctx)
    {
        var world = ctx.World;
        int size = world.Size, rank = ctx.Rank;
        int right = (rank + 1) % size, left = (rank + size - 1) % size;

        ctx.Run("isend irecv wait", () =>
        {
            var got = new int[3];
            using var r = world.Irecv(got, left, 20);
            using var s = world.Isend(new[] { rank, rank * 2, rank * 3 }, right, 20);
            s.Wait();
            var status = r.Wait();
            return (got[2] == left * 3 && status.Source == left && r.IsCompleted, $"{got[2]}");
        });

        // Waitall over many requests: 4 messages each way with every other rank, mixed order of completion.
        ctx.Run("waitall", () =>
        {
            var requests = new List<Request>();
            var inbox = new double[size][];
            for (int peer = 0; peer < size; peer++)
            {
                inbox[peer] = new double[4];
                requests.Add(world.Irecv(inbox[peer], peer, 21));
            }
            for (int peer = 0; peer < size; peer++)
                requests.Add(world.Isend(Enumerable.Repeat(rank + 0.5, 4).ToArray(), peer, 21));
            var statuses = Request.Waitall([.. requests]);
            bool ok = statuses.Length == 2 * size;
            for (int peer = 0; peer < size; peer++)
                ok &= inbox[peer].All(v => v == peer + 0.5) && statuses[peer].Source == peer && statuses[peer].GetCount<double>() == 4;
            return (ok, $"{requests.Count} requests");
        });

        // Waitall over 10,000 receive/send pairs (20,000 requests): completes, each request with its own status. With a
        // completion loop that rescans the whole array per completion (O(n²)) it takes ten times longer and more.
        ctx.Run("waitall 10000 pairs", () =>
        {
            const int Pairs = 10_000;
            var inbox = new int[Pairs];
            var outbox = Enumerable.Range(0, Pairs).Select(i => rank * Pairs + i).ToArray();
            var requests = new Request[2 * Pairs];
            for (int i = 0; i < Pairs; i++) requests[i] = world.Irecv(inbox.AsMemory(i, 1), left, 40);
            for (int i = 0; i < Pairs; i++) requests[Pairs + i] = world.Isend(new ReadOnlyMemory<int>(outbox, i, 1), right, 40);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var statuses = Request.Waitall(requests);
            double seconds = clock.Elapsed.TotalSeconds;
            // Messages of one sender and tag arrive in order (MPI's non-overtaking rule).
            bool ok = requests.All(r => r.IsCompleted) && inbox.Select((v, i) => v == left * Pairs + i).All(b => b)
                && statuses.Take(Pairs).All(s => s.Source == left && s.Tag == 40 && s.GetCount<int>() == 1);
            // Not a speed test: a bound far above what it takes here (~1-2 s with 4 ranks on 2 loaded cores, about what
            // MPI_Waitall itself takes) that the O(n²) loop (~20 s on the same machine) does not meet.
            return (ok && seconds < 10, $"{requests.Length} requests in {seconds:F2} s");
        });

        // Waitany: rank 0 posts receives from everybody and takes them in whatever order they come.
        ctx.Run("waitany", () =>
        {
            if (rank != 0)
            {
                world.Send([rank], 0, 22);
                return ctx.VerdictFrom(0);
            }
            var seen = new HashSet<int>();
            try
            {
                var buffers = Enumerable.Range(0, size).Select(_ => new int[1]).ToArray();
                var requests = Enumerable.Range(0, size).Select(p => p == 0 ? world.Irecv(buffers[0], Comm.ProcNull, 22) : world.Irecv(buffers[p], p, 22)).ToArray();
                for (int k = 0; k < size; k++)
                {
                    var (index, status) = Request.Waitany(requests);
                    if (index < 0) break;
                    if (index != 0 && (buffers[index][0] != index || status.Source != index)) return (false, $"bad message at {index}");
                    seen.Add(index);
                }
                var (none, _) = Request.Waitany(requests);
                return (seen.Count == size && none == -1, $"{seen.Count} then {none}");
            }
            finally
            {
                for (int sender = 1; sender < size; sender++) ctx.TellVerdict(sender, seen.Contains(sender));
            }
        });

        // Test loop + Testall.
        ctx.Run("test testall", () =>
        {
            var got = new long[1];
            var r = world.Irecv(got, left, 23);
            var s = world.Isend(new[] { (long)rank << 33 }, right, 23);
            int spins = 0;
            while (!r.Test(out _)) { spins++; Thread.Yield(); }
            while (!Request.Testall([r, s], out _)) Thread.Yield();
            return (got[0] == (long)left << 33 && s.IsCompleted, $"spins {spins}");
        });

        // WaitAsync on many requests: one shared poller thread completes them all.
        ctx.Run("waitasync", () =>
        {
            var tasks = new List<Task<Status>>();
            var inbox = new int[8][];
            int threadsBefore = ProcessThreads();
            for (int i = 0; i < 8; i++)
            {
                inbox[i] = new int[1];
                tasks.Add(world.Irecv(inbox[i], left, 30 + i).WaitAsync());
            }
            // Eight pending waits cost at most the one poller thread (plus one the runtime may start meanwhile), not a thread each.
            int threadsAdded = ProcessThreads() - threadsBefore;
            // Send in reverse order so completions arrive out of posting order.
            var sends = Enumerable.Range(0, 8).Reverse().Select(i => world.Isend(new[] { rank * 100 + i }, right, 30 + i)).ToArray();
            bool all = Task.WaitAll([.. tasks], TimeSpan.FromSeconds(20));
            Request.Waitall(sends);
            bool ok = all && Enumerable.Range(0, 8).All(i => inbox[i][0] == left * 100 + i && tasks[i].Result.Tag == 30 + i);
            return (ok && threadsAdded <= 2, $"{tasks.Count(t => t.IsCompletedSuccessfully)} completed, {threadsAdded} threads added for 8 waits");
        });

        // WaitAsync cancellation: a receive nobody matches; cancelling the token ends the wait, then the request is cancelled in MPI.
        ctx.Run("waitasync cancel", () =>
        {
            var buffer = new int[1];
            var r = world.Irecv(buffer, Comm.AnySource, 999);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            var task = r.WaitAsync(cts.Token);
            bool cancelled;
            try { task.Wait(TimeSpan.FromSeconds(10)); cancelled = false; }
            catch (AggregateException e) when (e.InnerException is TaskCanceledException) { cancelled = true; }
            r.Cancel();
            var status = r.Wait();
            return (cancelled && task.IsCanceled && status.Cancelled, $"task {task.Status}, mpi cancelled {status.Cancelled}");
        });

        ctx.Run("ibarrier", () =>
        {
            using var r = world.Ibarrier();
            r.Wait();
            return (r.IsCompleted, "");
        });

        ctx.Run("ibcast", () =>
        {
            var data = rank == 1 % size ? new[] { 3.5, 4.5 } : new double[2];
            world.Ibcast(data, 1 % size).WaitAsync().Wait(TimeSpan.FromSeconds(20));
            return (data[0] == 3.5 && data[1] == 4.5, $"{data[0]},{data[1]}");
        });

        ctx.Run("iallreduce", () =>
        {
            var send = new[] { rank, 1 };
            var result = new int[2];
            var r = world.Iallreduce(send, result, Op.Sum);
            r.Wait();
            var inPlace = new long[] { rank };
            world.Iallreduce(inPlace, Op.Max).Wait();
            return (result[0] == size * (size - 1) / 2 && result[1] == size && inPlace[0] == size - 1, $"{result[0]} {result[1]} {inPlace[0]}");
        });
    }

    private static int ProcessThreads()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.Threads.Count;
    }
}
