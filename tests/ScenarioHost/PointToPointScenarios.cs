using System.Numerics;
using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Blocking point-to-point: every element type, Ssend, Sendrecv ring, Probe, ProcNull, AnySource.</summary>
public static class PointToPointScenarios
{
    public static void Register(ScenarioRegistry add) => add("p2p", Run);

    private static void Run(ScenarioContext ctx)
    {
        var world = ctx.World;
        if (world.Size < 2) throw new InvalidOperationException("p2p needs at least 2 ranks");

        // Pairwise exchange of every supported element type: even ranks send first, odd ranks receive first.
        Exchange<sbyte>(ctx, i => (sbyte)(i - 50));
        Exchange<byte>(ctx, i => (byte)(i + 200));
        Exchange<short>(ctx, i => (short)(-i * 300));
        Exchange<ushort>(ctx, i => (ushort)(i * 1000));
        Exchange<int>(ctx, i => i * 100_000 - 7);
        Exchange<uint>(ctx, i => 4_000_000_000u + (uint)i);
        Exchange<long>(ctx, i => -(long)i << 40);
        Exchange<ulong>(ctx, i => ulong.MaxValue - (ulong)i);
        Exchange<float>(ctx, i => i * 0.5f);
        Exchange<double>(ctx, i => Math.PI * i);
        Exchange<bool>(ctx, i => i % 3 == 0);
        Exchange<char>(ctx, i => (char)('α' + i));
        Exchange<Complex>(ctx, i => new Complex(i, -i * 2.5));

        int right = (ctx.Rank + 1) % world.Size, left = (ctx.Rank + world.Size - 1) % world.Size;

        // Sendrecv ring: everybody passes its rank to the right at once, no deadlock.
        ctx.Run("sendrecv ring", () =>
        {
            Span<int> got = stackalloc int[1];
            var status = world.Sendrecv([ctx.Rank], right, 5, got, left, 5);
            return (got[0] == left && status.Source == left && status.Tag == 5, $"{got[0]}");
        });

        // Ssend to the right, receive from the left; alternate order by parity so it cannot deadlock.
        ctx.Run("ssend", () =>
        {
            double[] mine = [ctx.Rank + 0.25], got = new double[1];
            if (ctx.Rank % 2 == 0) { world.Ssend(mine, right, 6); world.Recv(got, left, 6); }
            else { world.Recv(got, left, 6); world.Ssend(mine, right, 6); }
            return (got[0] == left + 0.25, $"{got[0]}");
        });

        // Mprobe: two messages of different sizes; each receive gets exactly the one it claimed, a short buffer is
        // refused without losing the message, and a second Recv of the same message is refused.
        ctx.Run("mprobe mrecv", () =>
        {
            int partner = ctx.Rank ^ 1;
            bool alone = partner >= world.Size; // an odd size: the last rank sends to itself
            if (alone) partner = ctx.Rank;
            if (ctx.Rank % 2 == 0 && !alone)
            {
                world.Send(new int[] { 1, 2, 3 }, partner, 21);
                world.Send(new int[] { 4, 5, 6, 7, 8 }, partner, 22);
                return ctx.VerdictFrom(partner);
            }
            Request[] own = alone ? [world.Isend(new int[] { 1, 2, 3 }, partner, 21), world.Isend(new int[] { 4, 5, 6, 7, 8 }, partner, 22)] : [];
            bool ok = false;
            try
            {
                var first = world.Mprobe(partner, Comm.AnyTag);
                bool refused = false;
                try { first.Recv<int>(new int[1]); } catch (ArgumentException e) { refused = e.Message.Contains("holds 3 Int32 elements"); }
                int[] a = first.Recv<int>();
                bool again = false;
                try { first.Recv<int>(new int[8]); } catch (InvalidOperationException) { again = true; }
                var second = world.Mprobe(partner, 22);
                int[] b = second.Recv<int>();
                Request.Waitall(own);
                ok = refused && again && a.SequenceEqual([1, 2, 3]) && first.Status.Tag == 21 && b.SequenceEqual([4, 5, 6, 7, 8]);
                return (ok, $"{string.Join(",", a)} | {string.Join(",", b)} refused={refused} again={again}");
            }
            finally { if (!alone) ctx.TellVerdict(partner, ok); }
        });

        // Probe + GetCount: rank 0 sends a message of a size the receiver does not know.
        ctx.Run("probe getcount", () =>
        {
            if (ctx.Rank == 0)
            {
                for (int dest = 1; dest < world.Size; dest++)
                    world.Send(Enumerable.Range(0, 10 + dest).Select(i => (long)i).ToArray(), dest, 9);
                var verdicts = Enumerable.Range(1, world.Size - 1).Select(ctx.VerdictFrom).ToList();
                return (verdicts.All(v => v.Ok), string.Join("; ", verdicts.Select(v => v.Detail)));
            }
            bool ok = false;
            try
            {
                var status = world.Probe(Comm.AnySource, 9);
                int count = status.GetCount<long>();
                var buffer = new long[count];
                var received = world.Recv(buffer, status.Source, status.Tag);
                ok = status.Source == 0 && count == 10 + ctx.Rank && buffer[^1] == count - 1 && received.GetCount<long>() == count;
                return (ok, $"{count}");
            }
            finally { ctx.TellVerdict(0, ok); }
        });

        // Iprobe finds nothing when nothing was sent.
        ctx.Run("iprobe empty", () => (!world.Iprobe(Comm.AnySource, 4242, out _), "none"));

        // ProcNull: sends and receives complete at once and move nothing.
        ctx.Run("procnull", () =>
        {
            world.Send([1, 2, 3], Comm.ProcNull, 1);
            int[] buffer = [7];
            var status = world.Recv(buffer, Comm.ProcNull, 1);
            return (buffer[0] == 7 && status.Source == Comm.ProcNull && status.GetCount<int>() == 0, $"source {status.Source}");
        });

        // AnySource: rank 0 collects one message from everybody else and learns the sender from the status.
        ctx.Run("anysource", () =>
        {
            if (ctx.Rank != 0)
            {
                world.Send([ctx.Rank * 11], 0, 3);
                return ctx.VerdictFrom(0);
            }
            var seen = new SortedSet<int>();
            try
            {
                for (int i = 1; i < world.Size; i++)
                {
                    int[] value = new int[1];
                    var s = world.Recv(value, Comm.AnySource, Comm.AnyTag);
                    if (value[0] == s.Source * 11 && s.Tag == 3) seen.Add(s.Source);
                }
                return (seen.Count == world.Size - 1, string.Join(",", seen));
            }
            finally
            {
                for (int sender = 1; sender < world.Size; sender++) ctx.TellVerdict(sender, seen.Contains(sender));
            }
        });
        world.Barrier(); // AnyTag above must not catch the next check's messages

        // Shorter message than buffer: the status says how much arrived.
        ctx.Run("short message", () =>
        {
            var got = new float[8];
            var status = world.Sendrecv(new float[] { 1, 2, 3 }, right, 8, got, left, 8);
            return (status.GetCount<float>() == 3 && got[2] == 3 && status.ByteCount == 12, $"{status.GetCount<float>()}");
        });

        // Large message (4 MiB): rendezvous protocol path.
        ctx.Run("large message", () =>
        {
            var send = new double[1 << 19];
            for (int i = 0; i < send.Length; i++) send[i] = ctx.Rank + i;
            var got = new double[send.Length];
            world.Sendrecv(send, right, 10, got, left, 10);
            return (got[0] == left && got[^1] == left + got.Length - 1, $"{got.Length}");
        });
    }

    private static void Exchange<T>(ScenarioContext ctx, Func<int, T> make) where T : unmanaged, IEquatable<T>
    {
        var world = ctx.World;
        int size = world.Size;
        // Pairs (0,1), (2,3), ...; with an odd size the last rank talks to itself through Sendrecv.
        int partner = ctx.Rank % 2 == 0 ? ctx.Rank + 1 : ctx.Rank - 1;
        ctx.Run($"p2p {typeof(T).Name}", () =>
        {
            T[] mine = Enumerable.Range(0, 5).Select(i => make(ctx.Rank * 10 + i)).ToArray();
            T[] got = new T[5];
            if (partner >= size)
            {
                world.Sendrecv(mine, ctx.Rank, 1, got, ctx.Rank, 1);
                partner = ctx.Rank;
            }
            else if (ctx.Rank % 2 == 0)
            {
                world.Send(mine, partner, 1);
                world.Recv(got, partner, 1);
            }
            else
            {
                var status = world.Recv(got, partner, 1);
                if (status.GetCount<T>() != 5) return (false, $"count {status.GetCount<T>()}");
                world.Send(mine, partner, 1);
            }
            bool ok = true;
            for (int i = 0; i < 5; i++) ok &= got[i].Equals(make(partner * 10 + i));
            return (ok, $"{got[4]}");
        });
    }
}
