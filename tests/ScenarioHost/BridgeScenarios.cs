using PyMpiBridge.Messaging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;
using PyMpiBridge.Sharing;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// One rank, two languages: scenarios that start a rank session (MPI, then Python) and check that C# and
/// Python share the same MPI, communicators and memory, within a rank and across ranks.
/// </summary>
internal static class BridgeScenarios
{
    public static void Register(ScenarioRegistry add)
    {
        add("bridge-session", WithSession(SharedWorldAndDerivedComms), initializeMpi: false);
        add("bridge-arrays", WithSession(ArraysAndCallsInOneRank), initializeMpi: false);
        add("bridge-cross-rank", WithSession(CrossRankBuffersAndObjects), initializeMpi: false);
        add("bridge-gil", WithSession(GilReleasedWhileCSharpWaitsInMpi), initializeMpi: false);
        add("bridge-unhandled", WithSession(UnhandledExceptionAbortsJob), initializeMpi: false);
    }

    internal static Action<ScenarioContext> WithSession(Action<ScenarioContext, RankSession> body) => context =>
    {
        using var session = PyMpi.Start();
        body(context, session);
    };

    /// <summary>Runs Python code in a fresh namespace holding <paramref name="values"/>; returns that namespace.</summary>
    internal static PyObject Run(string code, params (string Name, object? Value)[] values)
    {
        var ns = PyObject.From(new Dictionary<string, object?>());
        foreach (var (name, value) in values) ns.SetItem(name, value);
        Py.Exec(code, ns);
        return ns;
    }

    internal static T Get<T>(PyObject ns, string name)
    {
        using var value = ns[name];
        return value.As<T>();
    }

    private static void SharedWorldAndDerivedComms(ScenarioContext c, RankSession session)
    {
        var world = session.World;
        using var gil = Py.Gil();
        using (var ns = Run("""
            import mpi4py
            from mpi4py import MPI
            import pympibridge
            rc_ok = (mpi4py.rc.initialize, mpi4py.rc.finalize) == (False, False)
            initialized = MPI.Is_initialized()
            world_handle = MPI._handleof(pympibridge.world)
            mpi4py_world = MPI._handleof(MPI.COMM_WORLD)
            in_host = pympibridge.in_host
            """))
        {
            c.Check("mpi4py configured by host", Get<bool>(ns, "rc_ok") && Get<bool>(ns, "initialized") && Get<bool>(ns, "in_host"));
            long handle = Get<long>(ns, "world_handle");
            c.Check("same world handle", handle == world.HandleValue && handle == Get<long>(ns, "mpi4py_world"),
                $"python {handle:x} csharp {world.HandleValue:x}");
        }

        // C# creates, Python uses: a Split made in C# reduces the same in mpi4py.
        using (Comm halves = world.Split(world.Rank % 2, world.Rank)!)
        using (var pyHalves = halves.ToMpi4py())
        using (var ns = Run("total = comm.allreduce(rank); size = comm.Get_size()", ("comm", pyHalves), ("rank", world.Rank)))
        {
            int expected = halves.Allreduce(world.Rank, Op.Sum);
            c.Check("csharp comm in python", Get<int>(ns, "total") == expected && Get<int>(ns, "size") == halves.Size,
                $"python {Get<int>(ns, "total")} csharp {expected}");
        }

        // Python creates, C# uses: an mpi4py Split seen from C# as the same communicator.
        using (var ns = Run("from mpi4py import MPI\nsub = MPI.COMM_WORLD.Split(MPI.COMM_WORLD.rank // 2, -MPI.COMM_WORLD.rank)\n" +
                            "py_rank = sub.Get_rank(); py_size = sub.Get_size(); py_sum = sub.allreduce(MPI.COMM_WORLD.rank)"))
        {
            using var pySub = ns["sub"];
            using Comm view = CommSharing.FromMpi4py(pySub);
            int sum = view.Allreduce(world.Rank, Op.Sum);
            c.Check("python comm in csharp",
                view.Rank == Get<int>(ns, "py_rank") && view.Size == Get<int>(ns, "py_size") && sum == Get<int>(ns, "py_sum"),
                $"rank {view.Rank}/{view.Size} sum {sum}");
            view.Dispose(); // a view: must not free Python's communicator
            Py.Exec("still = sub.allreduce(1); sub.Free()", ns);
            c.Check("view dispose leaves python comm alive", Get<int>(ns, "still") == view.Size);
        }

        // Dup on both sides works on the other side too.
        using (Comm dup = world.Dup())
        using (var ns = Run("d = comm.Dup(); n = d.allreduce(1); d.Free()", ("comm", dup)))
            c.Check("dup across languages", Get<int>(ns, "n") == world.Size);

        c.Expect<ArgumentException>("non-comm rejected", () => CommSharing.FromMpi4py(PyObject.From(42)),
            e => e.Message.Contains("expected an mpi4py communicator"));
    }

    private static void ArraysAndCallsInOneRank(ScenarioContext c, RankSession session)
    {
        session.Export("scale_in_place", new Action<PyBuffer<double>, double>((a, f) =>
        {
            foreach (ref double v in a.Span) v *= f;
        }));
        session.Export("rank_and_sum", new Func<Comm, PyBuffer<double>, double>((comm, a) =>
            comm.Rank + comm.Allreduce(a.ReadOnlySpan.ToArray().Sum(), Op.Sum)));
        // A Comm argument is a view the bridge reuses across calls: one callee keeps it, another disposes its own.
        Comm? kept = null;
        session.Export("keep_comm", new Action<Comm>(comm => kept = comm));
        session.Export("size_then_dispose", new Func<Comm, int>(comm =>
        {
            using (comm) return comm.Size;
        }));

        double[] data = [1, 2, 3, 4];
        using var gil = Py.Gil();
        using (var shared = PyArray.From(data))
        using (var ns = Run("""
            import numpy as np
            from pympibridge import csharp, world
            arr[1] = 20.0                        # Python writes, C# sees it
            csharp.scale_in_place(arr, 2.0)      # C# writes, Python sees it
            doubled = arr.tolist()
            base_ok = not arr.flags.owndata
            total = csharp.rank_and_sum(world, np.ones(3))
            sub = world.Dup()
            csharp.keep_comm(sub)
            sizes = [csharp.size_then_dispose(sub), csharp.size_then_dispose(sub)]
            try:
                csharp.scale_in_place(np.arange(3), 2.0)
                dtype_error = "no error"
            except Exception as e:
                dtype_error = type(e).__name__ + ": " + str(e)
            try:
                csharp.no_such_function
                missing = "no error"
            except AttributeError as e:
                missing = str(e)
            """, ("arr", shared)))
        {
            c.Check("writes visible both ways", data.SequenceEqual([2.0, 40, 6, 8]) &&
                Get<List<double>>(ns, "doubled").SequenceEqual([2.0, 40, 6, 8]) && Get<bool>(ns, "base_ok"),
                string.Join(",", data));
            c.Check("comm argument from python", Get<double>(ns, "total") == session.Rank + 3.0 * session.Size, Get<double>(ns, "total").ToString());
            c.Run("comm argument disposed by its callee stays usable", () =>
            {
                var sizes = Get<List<int>>(ns, "sizes");
                int keptSum = kept!.Allreduce(1, Op.Sum); // the view kept by another callee, after two disposals
                Py.Exec("sub.Free()", ns);
                return (sizes.SequenceEqual([session.Size, session.Size]) && keptSum == session.Size,
                    $"sizes [{string.Join(",", sizes)}], kept view allreduce {keptSum}");
            });
            string dtypeError = Get<string>(ns, "dtype_error");
            c.Check("wrong dtype explained", dtypeError.Contains("float64") || dtypeError.Contains("double"), dtypeError);
            string missing = Get<string>(ns, "missing");
            c.Check("unknown function explained", missing.Contains("no C# function named 'no_such_function'") && missing.Contains("scale_in_place"), missing);
        }
    }

    /// <summary>Even ranks speak C#, odd ranks Python (both in this process's embedded interpreter), pairwise.</summary>
    private static void CrossRankBuffersAndObjects(ScenarioContext c, RankSession session)
    {
        var world = session.World;
        int partner = world.Rank ^ 1;
        if (partner >= world.Size)
        {
            foreach (string check in (string[])["buffers csharp to python", "buffers python to csharp", "objects csharp to python", "objects python to csharp"])
                c.Check(check, false, $"rank {world.Rank} has no partner: run this scenario on an even number of ranks");
        }
        else if (world.Rank % 2 == 0)
        {
            double[] outgoing = Enumerable.Range(0, 1000).Select(i => i * 0.5 + world.Rank).ToArray();
            world.Send<double>(outgoing, partner, 11);
            var back = new double[1000];
            world.Recv<double>(back, partner, 12);
            bool backOk = back.Select((v, i) => v == outgoing[i] * 2).All(x => x);
            c.Check("buffers python to csharp", backOk, $"{back[1]} {back[999]}");

            var message = new Dictionary<string, object?>
            {
                ["name"] = "halo", ["step"] = 7, ["weights"] = new[] { 0.25, 0.5, 0.25 },
                ["tags"] = new List<object?> { "a", 1, 2.5, null }, ["grid"] = new int[2, 3] { { 1, 2, 3 }, { 4, 5, 6 } },
            };
            world.SendObject(message, partner, 13);
            var reply = world.RecvObject<Dictionary<object, object?>>(partner, 14);
            // What the Python rank found in our buffer, and what we found in its messages, each told to the other side.
            c.Check("buffers csharp to python", reply["buffers_ok"] is true, "the Python rank's verdict on our buffer");
            c.Check("objects csharp to python", reply["echo_ok"] is true, string.Join(",", reply.Keys));
            bool objectsOk = reply["sum"] is double s && s == 1.0 && reply["arr"] is long[] arr && arr.SequenceEqual([0L, 1, 2, 3, 4]) &&
                reply["text"] is "from python" && reply["nested"] is List<object?> { Count: 2 };
            c.Check("objects python to csharp", objectsOk, $"{reply["sum"]} {reply["arr"]?.GetType().Name}");
            world.SendObject(new Dictionary<string, object?> { ["buffers"] = backOk, ["objects"] = objectsOk }, partner, 15);
        }
        else
        {
            using var gil = Py.Gil();
            using var ns = Run("""
                import numpy as np
                from pympibridge import world
                buf = np.empty(1000)
                world.Recv([buf, MPI.DOUBLE], source=partner, tag=11)
                expected = np.arange(1000) * 0.5 + partner
                buffers_ok = bool(np.array_equal(buf, expected))
                world.Send(buf * 2, dest=partner, tag=12)
                msg = world.recv(source=partner, tag=13)
                echo_ok = (msg["name"] == "halo" and msg["step"] == 7
                           and isinstance(msg["weights"], np.ndarray) and msg["weights"].dtype == np.float64
                           and msg["tags"] == ["a", 1, 2.5, None]
                           and msg["grid"].shape == (2, 3) and int(msg["grid"][1, 2]) == 6)
                world.send({"echo_ok": echo_ok, "buffers_ok": buffers_ok, "sum": float(msg["weights"].sum()), "arr": np.arange(5),
                            "text": "from python", "nested": [{"k": 1}, (1, 2)]}, dest=partner, tag=14)
                verdict = world.recv(source=partner, tag=15)
                buffers_back_ok = verdict["buffers"] is True
                objects_back_ok = verdict["objects"] is True
                """, ("partner", partner), ("MPI", Py.Import("mpi4py.MPI")));
            c.Check("buffers csharp to python", Get<bool>(ns, "buffers_ok"));
            c.Check("buffers python to csharp", Get<bool>(ns, "buffers_back_ok"), "the C# rank's verdict on our buffer");
            c.Check("objects csharp to python", Get<bool>(ns, "echo_ok"));
            c.Check("objects python to csharp", Get<bool>(ns, "objects_back_ok"), "the C# rank's verdict on our message");
        }

        // Broadcast across languages: rank 0 (C#) broadcasts, odd ranks receive through mpi4py, even ranks through C#.
        object? payload = world.Rank == 0 ? new Dictionary<string, object?> { ["jobs"] = new long[] { 3, 1, 2 }, ["seed"] = 42 } : null;
        if (world.Rank % 2 == 0)
        {
            var got = (Dictionary<object, object?>)world.BcastObject(payload, 0)!;
            c.Check("bcast object", got["seed"] is 42L && got["jobs"] is long[] { Length: 3 } jobs && jobs[0] == 3, string.Join(",", got.Keys));
        }
        else
        {
            using var gil = Py.Gil();
            using var ns = Run("from pympibridge import world\ngot = world.bcast(None, root=0)\nok = got['seed'] == 42 and list(got['jobs']) == [3, 1, 2]");
            c.Check("bcast object", Get<bool>(ns, "ok"));
        }
    }

    /// <summary>
    /// A Python thread keeps running while the main Python thread is inside a C# function blocked in MPI_Recv:
    /// the bridge releases the GIL around blocking MPI calls, as mpi4py does.
    /// </summary>
    private static void GilReleasedWhileCSharpWaitsInMpi(ScenarioContext c, RankSession session)
    {
        var world = session.World;
        if (world.Size != 2) { c.Check("python thread ran during csharp recv", false, "run this scenario on 2 ranks"); return; }
        if (world.Rank == 1)
        {
            Thread.Sleep(600);
            world.Send<int>([123], 0, 5);
            var (received, detail) = c.VerdictFrom(0); // rank 0 tells whether its blocked receive let Python run
            c.Check("python thread ran during csharp recv", received, detail);
            return;
        }
        bool ok = false;
        try
        {
            session.Export("blocking_recv", new Func<int>(() =>
            {
                Span<int> box = [0];
                world.Recv(box, 1, 5);
                return box[0];
            }));
            using var gil = Py.Gil();
            using var ns = Run("""
                import threading, time
                from pympibridge import csharp
                ticks = 0
                stop = False
                def spin():
                    global ticks
                    while not stop:
                        ticks += 1
                        time.sleep(0.001)
                t = threading.Thread(target=spin); t.start()
                time.sleep(0.05)
                before = ticks
                value = csharp.blocking_recv()
                during = ticks - before
                stop = True; t.join()
                """);
            int during = Get<int>(ns, "during");
            ok = Get<int>(ns, "value") == 123 && during > 50;
            c.Check("python thread ran during csharp recv", ok, $"{during} ticks while blocked");
        }
        finally { c.TellVerdict(1, ok); }
    }

    private static void UnhandledExceptionAbortsJob(ScenarioContext c, RankSession session)
    {
        if (session.Rank == 1)
        {
            var thread = new Thread(() => throw new InvalidOperationException("worker failed on purpose"));
            thread.Start();
            thread.Join();
        }
        session.World.Barrier(); // the other ranks wait here; the abort must end them
        c.Ok("unreachable");
    }
}
