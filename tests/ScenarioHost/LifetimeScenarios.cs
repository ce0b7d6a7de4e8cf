using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;
using PyMpiBridge.Python;

namespace PyMpiBridge.ScenarioHost;

/// <summary>What MPI still uses stays alive until MPI is done with it: ops of pending reductions, request handles.</summary>
internal static class LifetimeScenarios
{
    public static void Register(ScenarioRegistry add)
    {
        add("lifetimes", Run);
        add("lifetimes-python", RunWithPython, initializeMpi: false);
    }

    /// <summary>
    /// Starts a receive into the Memory of an owner made by <paramref name="create"/> and keeps nothing but a weak
    /// reference to the owner: only the request can keep it alive.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Request Request, WeakReference Owner) ReceiveIntoDroppedOwner(Func<(object Owner, Memory<double> Memory)> create, int tag)
    {
        var (owner, memory) = create();
        return (Comm.Self.Irecv(memory, 0, tag), new WeakReference(owner));
    }

    /// <summary>Collects while the receive is pending, then completes it; ok when the owner survived and got the data.</summary>
    private static (bool Ok, string Detail) OwnerSurvivesPendingReceive(Func<(object Owner, Memory<double> Memory)> create, Func<object, double[]> read, int tag)
    {
        var (request, owner) = ReceiveIntoDroppedOwner(create, tag);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        bool aliveWhilePending = owner.IsAlive;
        Comm.Self.Send(new[] { 1.5, 2.5, 3.5 }, 0, tag);
        request.Wait();
        double[] got = owner.Target is { } o ? read(o) : [];
        return (aliveWhilePending && got.SequenceEqual([1.5, 2.5, 3.5]),
            $"alive while the receive was pending: {aliveWhilePending}, received [{string.Join(",", got)}]");
    }

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

        c.Run("native buffer memory kept alive by a pending receive", () => OwnerSurvivesPendingReceive(() =>
        {
            var buffer = new NativeBuffer<double>(3);
            return (buffer, buffer.Memory);
        }, o => ((NativeBuffer<double>)o).Span.ToArray(), tag: 11));

        c.Run("waitall failing midway marks completed requests", () =>
        {
            var self = Comm.Self;
            var received = new int[1];
            var requests = new[] { self.Irecv(received, 0, 5), self.Isend(new[] { 7 }, 0, 5), self.Irecv(new int[1], 0, 6) };
            string path;
            if (MpiEnvironment.Abi == MpiAbi.OpenMpi)
            {
                path = "Waitsome loop";
                Request.WaitsomeFault = remaining => remaining == 1 ? 1 : 0; // the first two complete, then MPI_Waitsome fails
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
                Request.WaitsomeFault = null;
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
        // The same over more requests than one MPI_Waitsome window: on Open MPI the call fails as a whole once the first
        // batch is done; everything completed before the failure is marked completed, the rest keep live handles.
        c.Run("waitall failing midway over many requests", () =>
        {
            const int Batch = 300;
            var self = Comm.Self;
            var first = new int[Batch];
            var second = new int[Batch];
            var requests = new List<Request>();
            for (int i = 0; i < Batch; i++) requests.Add(self.Irecv(first.AsMemory(i, 1), 0, 7));
            for (int i = 0; i < Batch; i++) requests.Add(self.Isend(new[] { i }, 0, 7));
            for (int i = 0; i < Batch; i++) requests.Add(self.Irecv(second.AsMemory(i, 1), 0, 8)); // nothing sent yet
            bool openMpi = MpiEnvironment.Abi == MpiAbi.OpenMpi;
            if (openMpi) Request.WaitsomeFault = remaining => remaining == Batch ? 1 : 0;
            else
            {
                for (int i = 0; i < Batch; i++) self.Send([-i], 0, 8);
                Request.WaitallNativeFault = _ => 1;
            }
            try
            {
                Request.Waitall([.. requests]);
                return (false, "no exception");
            }
            catch (MpiException) { }
            finally
            {
                Request.WaitsomeFault = null;
                Request.WaitallNativeFault = null;
            }
            int firstDone = requests.Take(2 * Batch).Count(r => r.IsCompleted), secondDone = requests.Skip(2 * Batch).Count(r => r.IsCompleted);
            bool ok = firstDone == 2 * Batch && first.Select((v, i) => v == i).All(b => b);
            if (openMpi)
            {
                ok &= secondDone == 0;
                for (int i = 0; i < Batch; i++) self.Send([-i], 0, 8);
                Request.Waitall([.. requests.Skip(2 * Batch)]); // live handles: they complete normally
            }
            ok &= requests.All(r => r.IsCompleted) && second.Select((v, i) => v == -i).All(b => b);
            return (ok, $"{firstDone} of the first {2 * Batch} completed, {secondDone} of the last {Batch} before the failure");
        });

        // A real failure among many: one truncated receive; every request still completes, then Waitall throws it.
        // Between two ranks: Open MPI does not detect truncation of a message a rank sends itself.
        c.Run("waitall with a truncated receive among many", () =>
        {
            const int Pairs = 300, Truncated = 150;
            int left = (rank + size - 1) % size, right = (rank + 1) % size;
            var inbox = new int[Pairs];
            var requests = new List<Request>();
            for (int i = 0; i < Pairs; i++) requests.Add(w.Irecv(inbox.AsMemory(i, 1), left, 9));
            for (int i = 0; i < Pairs; i++) requests.Add(w.Isend(i == Truncated ? new[] { i, i, i } : new[] { i }, right, 9));
            MpiException? error = null;
            try { Request.Waitall([.. requests]); }
            catch (MpiException e) { error = e; }
            bool ok = error?.ErrorClass == MpiErrorClass.Truncate && requests.All(r => r.IsCompleted)
                && inbox.Select((v, i) => i == Truncated || v == i).All(b => b);
            return (ok, error?.Message ?? "no exception");
        });
    }

    private static void RunWithPython(ScenarioContext c)
    {
        using var session = PyMpi.Start();
        c.Run("numpy buffer memory kept alive by a pending receive", () => OwnerSurvivesPendingReceive(() =>
        {
            using var gil = Py.Gil();
            using var np = Py.Import("numpy");
            using var array = np.CallMethod("zeros", 3);
            var buffer = PyBuffer<double>.Get(array, writable: true);
            return (buffer, buffer.Memory);
        }, o => ((PyBuffer<double>)o).ToArray(), tag: 12));
    }
}
