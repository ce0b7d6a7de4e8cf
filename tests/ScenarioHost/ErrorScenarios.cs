using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// Bad input gets a clear exception and the job carries on: argument checks before MPI, MPI errors as
/// MpiException (truncation with sizes), disposed objects, use after Finalize; and Abort. (Failures that end the
/// job instead: JobFailureScenarios.)
/// </summary>
public static class ErrorScenarios
{
    public static void Register(ScenarioRegistry add)
    {
        add("errors", Run);
        add("abort", RunAbort);
    }

    private static void Run(ScenarioContext ctx)
    {
        var w = ctx.World;
        int size = w.Size, rank = ctx.Rank;
        int right = (rank + 1) % size, left = (rank + size - 1) % size;

        ctx.Expect<ArgumentOutOfRangeException>("dest out of range", () => w.Send([1], size, 0),
            e => e.Message.Contains($"Destination rank {size}") && e.Message.Contains($"0..{size - 1}"));
        ctx.Expect<ArgumentOutOfRangeException>("source out of range", () => w.Recv(new int[1], -7, 0),
            e => e.Message.Contains("Source rank -7") && e.Message.Contains("AnySource"));
        ctx.Expect<ArgumentOutOfRangeException>("negative tag", () => w.Send([1], right, -3),
            e => e.Message.Contains("Tag -3") && e.ParamName == "tag");
        ctx.Expect<ArgumentOutOfRangeException>("anytag on send", () => w.Isend(new[] { 1 }, right, Comm.AnyTag));
        ctx.Expect<ArgumentOutOfRangeException>("root out of range", () => w.Bcast(new int[1], size + 3),
            e => e.Message.Contains($"Root rank {size + 3}"));
        // Checks on what only this rank holds throw on a one-rank communicator (on a larger one they end the job:
        // JobFailureScenarios), so they are made on Self here.
        var self = Comm.Self;
        ctx.Expect<ArgumentException>("counts length", () => self.Allgatherv([1], new int[1], new int[3]),
            e => e.Message.Contains("has 3 entries") && e.Message.Contains("1 ranks"));
        ctx.Expect<ArgumentOutOfRangeException>("negative count", () => self.Allgatherv([1], new int[1], [-1]),
            e => e.Message.Contains("counts must be >= 0"));
        ctx.Expect<ArgumentException>("gather buffer too small", () => self.Gather([1, 2], new int[1], 0),
            e => e.Message.Contains("holds 1 elements") && e.Message.Contains("needs 2"));
        ctx.Expect<NotSupportedException>("unsupported type", () => w.Send([1m], right, 0),
            e => e.Message.Contains("System.Decimal") && e.Message.Contains("AsBytes"));
        ctx.Expect<ArgumentException>("sendrecv overlap", () =>
        {
            var buffer = new int[4];
            w.Sendrecv<int, int>(buffer.AsSpan(0, 3), right, 1, buffer.AsSpan(2, 2), left, 1);
        }, e => e.Message.Contains("overlap"));

        // Truncation: everyone sends 5 ints to the right and receives into a 2-int buffer.
        ctx.Expect<MpiException>("recv truncate", () =>
        {
            var s = w.Isend(new[] { 1, 2, 3, 4, 5 }, right, 40);
            try { w.Recv(new int[2], left, 40); }
            finally { s.Wait(); }
        }, e => e.ErrorClass == MpiErrorClass.Truncate && e.CallName == "MPI_Recv" && e.Message.Contains("holds 2 Int32 elements (8 bytes)")
               && e.Message.Contains("Probe"));

        // The same through Irecv + Wait.
        ctx.Expect<MpiException>("irecv truncate", () =>
        {
            var r = w.Irecv(new double[1], left, 41);
            var s = w.Isend(new[] { 1.0, 2.0 }, right, 41);
            s.Wait();
            r.Wait();
        }, e => e.ErrorClass == MpiErrorClass.Truncate && e.Message.Contains("holds 1 Double elements"));

        // The world still works after the errors above.
        ctx.Run("world usable after errors", () => (w.Allreduce(1, Op.Sum) == size, ""));

        ctx.Expect<ObjectDisposedException>("disposed comm", () =>
        {
            var dup = w.Dup();
            dup.Dispose();
            dup.Send([1], 0, 0);
        });

        ctx.Expect<ArgumentException>("op type mismatch", () =>
        {
            using var op = Op.Create<int>((a, b) => { });
            w.Allreduce(1.0, op);
        }, e => e.Message.Contains("created for Int32") && e.Message.Contains("Double"));

        ctx.Expect<ObjectDisposedException>("disposed op", () =>
        {
            var op = Op.Create<int>((a, b) => { });
            op.Dispose();
            w.Allreduce(1, op);
        });

        ctx.Run("waitall reports truncation", () =>
        {
            var r = w.Irecv(new byte[1], left, 42);
            var s = w.Isend(new byte[] { 1, 2, 3 }, right, 42);
            try
            {
                Request.Waitall(r, s);
                return (false, "no exception");
            }
            catch (MpiException e)
            {
                return (e.ErrorClass == MpiErrorClass.Truncate && r.IsCompleted && s.IsCompleted, e.Message);
            }
        });

        // Finalize, then every use is a clear InvalidOperationException.
        var kept = w;
        MpiEnvironment.Finalize();
        ctx.Expect<InvalidOperationException>("world after finalize", () => _ = Comm.World, e => e.Message.Contains("finalized"));
        ctx.Expect<InvalidOperationException>("send after finalize", () => kept.Send([1], 0, 0), e => e.Message.Contains("finalized"));
        ctx.Expect<InvalidOperationException>("init after finalize", () => MpiEnvironment.Init(), e => e.Message.Contains("cannot be initialized"));
    }

    /// <summary>Rank 1 aborts while the others wait in a barrier that can never complete: the job must end, non-zero.</summary>
    private static void RunAbort(ScenarioContext ctx)
    {
        ctx.Ok("before abort");
        if (ctx.Rank == 1 % ctx.Size)
        {
            Console.Out.Flush();
            MpiEnvironment.Abort(7);
        }
        ctx.World.Barrier();
        ctx.Check("after abort", false, "barrier completed although a rank aborted");
    }
}

internal static class ReduceExtensions
{
    /// <summary>Reduce of one value to rank 0 (a helper for the scenario above).</summary>
    public static int Reduce(this Comm comm, int value, Op op)
    {
        var result = new int[1];
        comm.Reduce([value], result, op, 0);
        return result[0];
    }
}
