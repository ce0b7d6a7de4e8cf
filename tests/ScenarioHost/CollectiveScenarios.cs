using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Every blocking collective, the v-variants, in-place forms, scalar helpers and a user-defined op.</summary>
public static class CollectiveScenarios
{
    public static void Register(ScenarioRegistry add) => add("collectives", Run);

    private static void Run(ScenarioContext ctx)
    {
        var w = ctx.World;
        int size = w.Size, rank = ctx.Rank, root = size - 1;
        int triangle = size * (size - 1) / 2;

        // Barrier: no rank leaves before the last one enters. Each round one rank enters 400 ms late; every other rank
        // must have waited for it (with slack for a loaded 2-core machine), whichever rank is late.
        ctx.Run("barrier", () =>
        {
            if (w.Size == 1)
            {
                // Nobody to wait for: a one-rank barrier returns at once.
                var alone = System.Diagnostics.Stopwatch.StartNew();
                w.Barrier();
                return (alone.Elapsed < TimeSpan.FromSeconds(1), $"one rank, returned after {alone.Elapsed.TotalMilliseconds:F1} ms");
            }
            var waited = new List<double>();
            foreach (int late in new[] { 0, w.Size - 1 })
            {
                w.Barrier();
                if (w.Rank == late) Thread.Sleep(400);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                w.Barrier();
                if (w.Rank != late) waited.Add(clock.Elapsed.TotalMilliseconds);
            }
            return (waited.Count > 0 && waited.All(ms => ms >= 200), $"waited {string.Join(", ", waited.Select(ms => $"{ms:F0} ms"))}");
        });

        ctx.Run("bcast", () =>
        {
            var data = rank == root ? new[] { 1.5, 2.5, 3.5 } : new double[3];
            w.Bcast(data, root);
            int scalar = w.Bcast(rank == 0 ? 42 : -1, 0);
            return (data.SequenceEqual([1.5, 2.5, 3.5]) && scalar == 42, $"{data[2]} {scalar}");
        });

        ctx.Run("scatter", () =>
        {
            int[] send = rank == 0 ? Enumerable.Range(0, 2 * size).ToArray() : [];
            var got = new int[2];
            w.Scatter(send, got, 0);
            return (got[0] == 2 * rank && got[1] == 2 * rank + 1, $"{got[0]},{got[1]}");
        });

        // Scatterv: rank i gets i+1 elements, blocks placed with a gap of one element (explicit displacements).
        ctx.Run("scatterv", () =>
        {
            int[] counts = Enumerable.Range(1, size).ToArray();
            int[] displs = new int[size];
            for (int i = 1; i < size; i++) displs[i] = displs[i - 1] + counts[i - 1] + 1;
            long[] send = new long[displs[^1] + counts[^1]];
            for (int i = 0; i < size; i++) for (int k = 0; k < counts[i]; k++) send[displs[i] + k] = i * 100 + k;
            var got = new long[rank + 1];
            w.Scatterv(rank == 0 ? send : [], counts, displs, got, 0);
            return (got.Select((v, k) => v == rank * 100 + k).All(b => b), string.Join(",", got));
        });

        ctx.Run("gather", () =>
        {
            var got = new float[2 * size];
            w.Gather([rank, -rank], rank == root ? got : [], root);
            bool ok = ctx.ConfirmedBy(root, rank == root && Enumerable.Range(0, size).All(i => got[2 * i] == i && got[2 * i + 1] == -i));
            int[] scalars = w.Gather(rank * 3, 0);
            ok &= ctx.ConfirmedBy(0, rank == 0 && scalars.SequenceEqual(Enumerable.Range(0, size).Select(i => i * 3)));
            ok &= rank == 0 || scalars.Length == 0;
            return (ok, rank == root ? string.Join(",", got) : $"root {root}'s verdict; {scalars.Length} scalars here");
        });

        // Gatherv with packed blocks (no displacements): rank i sends i+1 copies of i.
        ctx.Run("gatherv", () =>
        {
            int[] counts = Enumerable.Range(1, size).ToArray();
            var got = new short[counts.Sum()];
            w.Gatherv(Enumerable.Repeat((short)rank, rank + 1).ToArray(), got, counts, 0);
            short[] expected = Enumerable.Range(0, size).SelectMany(i => Enumerable.Repeat((short)i, i + 1)).ToArray();
            return (ctx.ConfirmedBy(0, rank == 0 && got.SequenceEqual(expected)), rank == 0 ? string.Join("", got) : "root 0's verdict");
        });

        ctx.Run("allgather", () =>
        {
            var got = new int[size];
            w.Allgather([rank * rank], got);
            var scalars = w.Allgather((byte)rank);
            return (got.Select((v, i) => v == i * i).All(b => b) && scalars.SequenceEqual(Enumerable.Range(0, size).Select(i => (byte)i)), string.Join(",", got));
        });

        ctx.Run("allgatherv", () =>
        {
            int[] counts = Enumerable.Range(0, size).Select(i => size - i).ToArray();
            var got = new double[counts.Sum()];
            w.Allgatherv(Enumerable.Repeat(rank + 0.5, size - rank).ToArray(), got, counts);
            double[] expected = Enumerable.Range(0, size).SelectMany(i => Enumerable.Repeat(i + 0.5, size - i)).ToArray();
            return (got.SequenceEqual(expected), $"{got.Length}");
        });

        ctx.Run("alltoall", () =>
        {
            int[] send = Enumerable.Range(0, size).Select(dest => rank * 10 + dest).ToArray();
            var got = new int[size];
            w.Alltoall(send, got);
            return (got.Select((v, src) => v == src * 10 + rank).All(b => b), string.Join(",", got));
        });

        // Alltoallv: rank r sends (dest+1) copies of r to each dest; receives (r+1) from everyone.
        ctx.Run("alltoallv", () =>
        {
            int[] sendCounts = Enumerable.Range(1, size).ToArray();
            int[] send = Enumerable.Range(0, size).SelectMany(d => Enumerable.Repeat(rank, d + 1)).ToArray();
            int[] receiveCounts = Enumerable.Repeat(rank + 1, size).ToArray();
            var got = new int[(rank + 1) * size];
            w.Alltoallv(send, sendCounts, default, got, receiveCounts, default);
            int[] expected = Enumerable.Range(0, size).SelectMany(s => Enumerable.Repeat(s, rank + 1)).ToArray();
            return (got.SequenceEqual(expected), string.Join("", got));
        });

        ctx.Run("reduce", () =>
        {
            var got = new long[2];
            w.Reduce([rank, 1L], got, Op.Sum, 0);
            var inPlace = new[] { rank + 1.0 };
            w.Reduce(inPlace, Op.Prod, root);
            double factorial = Enumerable.Range(1, size).Aggregate(1.0, (a, b) => a * b);
            bool ok = ctx.ConfirmedBy(0, rank == 0 && got[0] == triangle && got[1] == size)
                && ctx.ConfirmedBy(root, rank == root && inPlace[0] == factorial);
            return (ok, $"{got[0]} {inPlace[0]}");
        });

        ctx.Run("allreduce", () =>
        {
            var got = new int[1];
            w.Allreduce([rank], got, Op.Sum);
            var buffer = new[] { rank, -rank };
            w.Allreduce(buffer, Op.Max);               // in place
            double min = w.Allreduce(rank + 0.25, Op.Min);
            bool anyOdd = w.Allreduce(rank % 2 == 1, Op.Lor);
            bool allSmall = w.Allreduce(rank < 100, Op.Land);
            uint bits = w.Allreduce(1u << rank, Op.Bor);
            uint band = w.Allreduce(0xFFu, Op.Band);
            uint bx = w.Allreduce(1u, Op.Bxor);
            bool lx = w.Allreduce(true, Op.Lxor);
            bool ok = got[0] == triangle && buffer[0] == size - 1 && buffer[1] == 0 && min == 0.25 && anyOdd == (size > 1) && allSmall
                && bits == (1u << size) - 1 && band == 0xFF && bx == (uint)(size % 2) && lx == (size % 2 == 1);
            return (ok, $"allreduce ok {got[0]}");
        });

        ctx.Run("reduce_scatter_block", () =>
        {
            int[] send = Enumerable.Range(0, 2 * size).Select(i => i + rank).ToArray();
            var got = new int[2];
            w.ReduceScatterBlock(send, got, Op.Sum);
            return (got[0] == size * 2 * rank + triangle && got[1] == size * (2 * rank + 1) + triangle, $"{got[0]},{got[1]}");
        });

        ctx.Run("scan exscan", () =>
        {
            int inclusive = w.Scan(rank + 1, Op.Sum);
            var exclusive = new[] { -1 };
            w.Exscan([rank + 1], exclusive, Op.Sum);
            bool ok = inclusive == (rank + 1) * (rank + 2) / 2 && (rank == 0 || exclusive[0] == rank * (rank + 1) / 2);
            return (ok, $"{inclusive} {exclusive[0]}");
        });

        // User-defined op: element-wise "keep the value with the larger magnitude", on doubles.
        ctx.Run("user op", () =>
        {
            using var maxAbs = Op.Create<double>((input, inout) =>
            {
                for (int i = 0; i < input.Length; i++)
                    if (Math.Abs(input[i]) > Math.Abs(inout[i])) inout[i] = input[i];
            });
            double[] mine = [rank % 2 == 0 ? -rank : rank, 1.0 / (rank + 1)];
            var got = new double[2];
            w.Allreduce(mine, got, maxAbs);
            double expected0 = (size - 1) % 2 == 0 ? -(size - 1) : size - 1;
            // Non-commutative op: concatenating digits shows MPI kept rank order (x0 ∘ x1 ∘ ... ).
            using var concat = Op.Create<long>((input, inout) =>
            {
                for (int i = 0; i < input.Length; i++)
                {
                    long scale = 1;
                    while (scale <= inout[i]) scale *= 10;
                    inout[i] = input[i] * scale + inout[i];
                }
            }, commutative: false);
            long digits = w.Allreduce((long)rank + 1, concat);
            long expectedDigits = Enumerable.Range(1, size).Aggregate(0L, (a, d) => a * 10 + d);
            return (got[0] == expected0 && got[1] == 1.0 && digits == expectedDigits, $"{got[0]} {digits}");
        });
    }
}
