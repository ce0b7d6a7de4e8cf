using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.ScenarioHost;

/// <summary>What MPI still uses stays alive until MPI is done with it: ops of pending reductions, request handles.</summary>
internal static class LifetimeScenarios
{
    public static void Register(ScenarioRegistry add) => add("lifetimes", Run);

    private static void Run(ScenarioContext c)
    {
        var w = c.World;
        int rank = c.Rank, size = c.Size;

        c.Run("op disposed while its reduction is pending", () =>
        {
            var sum = Op.Create<int>((input, inout) =>
            {
                for (int i = 0; i < input.Length; i++) inout[i] += input[i];
            });
            if (rank == 0) Thread.Sleep(300); // the others start first: their reductions cannot be done yet
            var result = new int[4];
            var request = w.Iallreduce(Enumerable.Repeat(rank + 1, 4).ToArray(), result, sum);
            sum.Dispose();
            // A new op now: if the disposed one gave back its trampoline slot, this one takes it and the pending
            // reduction calls this function instead.
            using var wrong = Op.Create<int>((input, inout) => inout.Fill(-999));
            request.Wait();
            int expected = size * (size + 1) / 2;
            bool disposedEarlier = false;
            try { w.Allreduce(1, sum); }
            catch (ObjectDisposedException) { disposedEarlier = true; }
            return (result.All(v => v == expected) && disposedEarlier,
                $"got [{string.Join(",", result)}], expected {expected}; disposed op refused afterwards: {disposedEarlier}");
        });

        c.Run("waitall failing midway marks completed requests", () =>
        {
            var self = Comm.Self;
            var received = new int[1];
            var requests = new[] { self.Irecv(received, 0, 5), self.Isend(new[] { 7 }, 0, 5), self.Irecv(new int[1], 0, 6) };
            string path;
            if (MpiEnvironment.Abi == MpiAbi.OpenMpi)
            {
                path = "Waitany loop";
                Request.WaitanyFault = k => k == 2 ? 1 : 0; // the first two complete, then Waitany fails
            }
            else
            {
                path = "MPI_Waitall";
                self.Send([0], 0, 6); // lets the third complete too, so MPI_Waitall frees every handle
                Request.WaitallNativeFault = _ => 1;
            }
            try
            {
                Request.Waitall(requests);
                return (false, $"{path}: no exception");
            }
            catch (MpiException)
            {
            }
            finally
            {
                Request.WaitanyFault = null;
                Request.WaitallNativeFault = null;
            }
            bool[] completed = requests.Select(r => r.IsCompleted).ToArray();
            bool ok = completed[0] && completed[1] && received[0] == 7;
            if (MpiEnvironment.Abi == MpiAbi.OpenMpi)
            {
                // The third is still pending with a live handle: it can be completed normally.
                ok &= !completed[2];
                self.Send([0], 0, 6);
                requests[2].Wait();
            }
            ok &= requests[2].IsCompleted;
            return (ok, $"{path}: completed after the failure [{string.Join(",", completed)}], received {received[0]}");
        });
    }
}
