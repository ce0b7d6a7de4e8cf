using PyMpiBridge.Mpi;
using PyMpiBridge.Pythonnet;
using PyMpiBridge.ScenarioHost;
using Python.Runtime;
using Ours = PyMpiBridge.Python;

namespace PyMpiBridge.PythonnetHost;

/// <summary>
/// numpy and mpi4py through pythonnet, our Comm and PyArray beside them: an array made by numpy travels to the next rank
/// through our Comm without copies on either side, is handed back to numpy, and is reduced in both languages.
/// </summary>
internal static class ExchangeScenarios
{
    private const int N = 1000;

    public static void Run(ScenarioContext context, RankSession session, string startedBy)
    {
        Comm world = session.World;
        int rank = world.Rank, size = world.Size;
        int right = (rank + 1) % size, left = (rank - 1 + size) % size;
        context.Check("one interpreter", session.Python!.Adopted == (startedBy == "pythonnet"),
            $"started by {startedBy}; ours: {session.Python}");

        using (Py.GIL())
        {
            dynamic np = Py.Import("numpy");
            dynamic mpi = Py.Import("mpi4py.MPI");
            dynamic comm = mpi.COMM_WORLD;
            context.Check("same communicator", (int)comm.py2f() == world.ToFortran() && (int)comm.Get_size() == size,
                $"mpi4py COMM_WORLD f2c {comm.py2f()}, ours {world.ToFortran()}");

            // numpy's memory seen from C#: the same bytes.
            using PyObject mine = np.arange(N, dtype: "float64") + 1000.0 * rank;
            using var view = mine.GetPyBuffer<double>(writable: true);
            view.Span[1] = -5;
            double seen = (double)mine[1].As<double>();
            view.Span[1] = 1 + 1000.0 * rank;
            context.Check("numpy memory viewed from C#", seen == -5 && view.Length == N, $"numpy saw {seen} after a C# write");

            // Around the ring with our Comm, from numpy's memory into a .NET array (the GIL pythonnet holds is released).
            var received = new double[N];
            world.Sendrecv<double, double>(view.ReadOnlySpan, right, 7, received, left, 7);
            bool ringOk = Enumerable.Range(0, N).All(i => received[i] == i + 1000.0 * left);
            context.Check("array exchanged through our Comm", ringOk, $"from rank {left}: [{received[0]}, {received[1]}, ...]");

            // The .NET array handed to numpy without copying, passed straight to pythonnet calls.
            double localByNumpy;
            using (Ours.Py.Gil())
            {
                using var shared = Ours.PyArray.From(received);
                received[0] += 0.5;
                dynamic theirs = shared.ToPythonnet();
                localByNumpy = (double)np.sum(shared);        // our object as a pythonnet argument
                double firstSeen = (double)theirs[0];
                received[0] -= 0.5;
                context.Check("C# memory viewed by numpy", firstSeen == 1000.0 * left + 0.5, $"numpy saw {firstSeen}");
                localByNumpy -= 0.5;
                ((PyObject)theirs).Dispose();
            }

            // Reduced in Python (mpi4py, through pythonnet) and in C# (our Comm): the same totals.
            double expected = size * (N * (N - 1) / 2.0) + 1000.0 * N * (size * (size - 1) / 2.0);
            double byMpi4py = (double)comm.allreduce(localByNumpy);
            double byCSharp = world.Allreduce(received.Sum(), Op.Sum);
            context.Check("sum reduced in both languages", byMpi4py == expected && byCSharp == expected,
                $"mpi4py {byMpi4py}, C# {byCSharp}, expected {expected}");

            // Element-wise: mpi4py reduces numpy's array into a .NET array; our Comm reduces numpy's memory in place.
            var total = new double[N];
            using (Ours.Py.Gil())
            using (var totalForNumpy = Ours.PyArray.From(total))
                comm.Allreduce(mine, totalForNumpy);
            world.Allreduce(view.Span, Op.Sum);
            double tail = (double)mine[N - 1].As<double>();
            double want = size * (N - 1.0) + 1000.0 * (size * (size - 1) / 2.0);
            context.Check("arrays reduced in both languages", total[N - 1] == want && tail == want,
                $"mpi4py into C# memory {total[N - 1]}, C# in numpy memory {tail}, expected {want}");
        }

        GilReleasedAroundBlockingCalls(context, world);
    }

    /// <summary>
    /// This thread holds the GIL through pythonnet (not through our scopes) and waits ~300 ms in our MPI_Recv: a Python
    /// thread must keep running meanwhile (mpi4py releases the GIL the same way).
    /// </summary>
    private static void GilReleasedAroundBlockingCalls(ScenarioContext context, Comm world)
    {
        using (Py.GIL())
        {
            using var scope = Py.CreateScope();
            scope.Exec("""
                import threading, time
                ticks = [0]
                stop = threading.Event()
                def tick():
                    while not stop.is_set():
                        ticks[0] += 1
                        time.sleep(0.001)
                ticker = threading.Thread(target=tick)
                ticker.start()
                """);
            var sender = new Thread(() => { Thread.Sleep(300); world.Send<double>([1.0], world.Rank, 99); });
            int before = scope.Eval<int>("ticks[0]");
            sender.Start();
            var buffer = new double[1];
            world.Recv<double>(buffer, world.Rank, 99);
            int during = scope.Eval<int>("ticks[0]") - before;
            scope.Exec("stop.set()\nticker.join()");
            sender.Join();
            context.Check("GIL held through pythonnet released around blocking MPI calls", during >= 10 && buffer[0] == 1.0,
                $"a Python thread ran {during} times while this thread waited in MPI_Recv");
        }
    }
}
