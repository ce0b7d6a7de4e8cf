using System.Security.Authentication;
using System.Text.Json.Nodes;
using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>A C# client driving a real 2-engine cluster (started with <see cref="Cluster.StartAsync"/>).</summary>
[TestFixture, NonParallelizable]
public sealed partial class ClientIntegrationTests() : TwoEngineClusterFixture("csharp-tests")
{

    [Test, CancelAfter(120_000)]
    public void EnginesAreConnected() => Assert.That(Client.Ids, Is.EqualTo(new[] { 0, 1 }));

    [Test, CancelAfter(120_000)]
    public async Task PushedArrayComesBackEqual()
    {
        double[] data = Enumerable.Range(0, 100_000).Select(i => i * 0.5).ToArray();
        await Client[..].PushAsync("a", data);
        double[][] pulled = await Client[..].PullAsync<double[]>("a");
        Assert.That(pulled, Has.Length.EqualTo(2));
        Assert.That(pulled[0], Is.EqualTo(data));
        Assert.That(pulled[1], Is.EqualTo(data));
    }

    [Test, CancelAfter(120_000)]
    public async Task LocalEnginesGetLargeArraysAsMemoryFilesAndTcpStillWorks()
    {
        double[] big = Enumerable.Range(0, 1 << 20).Select(i => i * 0.25).ToArray(); // 8 MiB
        // what the engine's array is built over (below numpy's own views): the received buffer's type
        const string baseType = "def base_type():\n    b = big\n    while type(b.base).__name__ == 'ndarray':\n        b = b.base\n" +
                                "    o = b.base\n    return type(o.obj if isinstance(o, memoryview) else o).__name__\n";
        Assert.That(Client.Engine(0).Url, Does.StartWith("ipc://@"), "an engine on this host is reached over its Unix socket");
        await Client[..].PushAsync("big", big);
        Assert.That(await Client[..].ApplyAsync<string>(baseType, "base_type"), Is.All.EqualTo("mmap"),
            "the engines mapped the memory file the client filled once");
        double[][] back = await Client[..].PullAsync<double[]>("big");
        Assert.That(back.All(b => b.AsSpan().SequenceEqual(big)));

        Environment.SetEnvironmentVariable("PYMPI_PARALLEL_TRANSPORT", "tcp");
        try
        {
            await using var tcp = await Client.ConnectAsync(urlFile: Cluster.ConnectionFile.Path, timeout: Wait);
            await tcp.WaitForEnginesAsync(2, Wait);
            Assert.That(tcp.Engine(1).Url, Does.StartWith("tcp://"));
            await tcp[..].PushAsync("big", big.AsMemory(1, 1000));
            Assert.That(await tcp[..].ApplyAsync<string>(baseType, "base_type"), Is.All.EqualTo("bytearray"));
            await tcp[..].PushAsync("big", big);
            Assert.That((await tcp[1].PullAsync<double[]>("big"))[0].AsSpan().SequenceEqual(big));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PYMPI_PARALLEL_TRANSPORT", null);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task MemoryAndSegmentsPushAsOneDimensionalArrays()
    {
        double[] data = [1, 2, 3, 4, 5];
        await Client[0].PushAsync(new Dictionary<string, object?>
        {
            ["m"] = data.AsMemory(1, 3), ["r"] = (ReadOnlyMemory<double>)data.AsMemory(2), ["s"] = new ArraySegment<double>(data, 0, 2),
        });
        Assert.That((await Client[0].PullAsync<double[]>("m"))[0], Is.EqualTo(new[] { 2.0, 3, 4 }));
        Assert.That((await Client[0].PullAsync<double[]>("r"))[0], Is.EqualTo(new[] { 3.0, 4, 5 }));
        Assert.That((await Client[0].PullAsync<double[]>("s"))[0], Is.EqualTo(new[] { 1.0, 2 }));
    }

    [Test, CancelAfter(120_000)]
    public async Task PushOfSeveralNamesAndMatrices()
    {
        await Client[0].PushAsync(new Dictionary<string, object?> { ["m"] = new[,] { { 1, 2 }, { 3, 4 } }, ["s"] = "text", ["n"] = 42 });
        var r = Client[0].ExecuteAsync("t = (m.T.tolist(), s.upper(), n + 1)");
        await r;
        var t = (await Client[0].PullAsync<object?[]>("t"))[0];
        Assert.That(t[0], Is.EqualTo(new List<object?> { new List<object?> { 1L, 3L }, new List<object?> { 2L, 4L } }));
        Assert.That(t[1], Is.EqualTo("TEXT"));
        Assert.That(t[2], Is.EqualTo(43L));
        Assert.That((await Client[0].PullAsync<int[,]>("m"))[0], Is.EqualTo(new[,] { { 1, 2 }, { 3, 4 } }));
    }

    [Test, CancelAfter(120_000)]
    public async Task ScatterThenGather()
    {
        double[] data = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        await Client[..].ScatterAsync("x", data);
        var lengths = await Client[..].ApplyAsync<long>("def n():\n    return len(x)\n", "n");
        Assert.That(lengths, Is.EqualTo(new[] { 6L, 5L }));        // 'b' distribution: the first len % n get one more
        Assert.That(await Client[..].GatherAsync<double>("x"), Is.EqualTo(data));
        await Client[..].ScatterAsync("w", new[] { "a", "b", "c" });
        Assert.That(await Client[..].GatherAsync<string>("w"), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test, CancelAfter(120_000)]
    public async Task ExecuteThenPull()
    {
        var r = Client[..].ExecuteAsync("import numpy as np\nfrom mpi4py import MPI\nrank = MPI.COMM_WORLD.Get_rank()\nv = np.full(3, rank, dtype=np.int64)");
        await r;
        Assert.That(r.Successful);
        Assert.That(await Client[..].PullAsync<int>("rank"), Is.EqualTo(new[] { 0, 1 }));
        Assert.That((await Client[1].PullAsync<long[]>("v"))[0], Is.EqualTo(new long[] { 1, 1, 1 }));
        var shown = await Client[0].ExecuteAsync("rank + 40", silent: false);
        Assert.That(shown[0]!.TextPlain, Is.EqualTo("40"));
    }

    [Test, CancelAfter(120_000)]
    public async Task ApplyRunsANumpyFunctionOnAPushedArray()
    {
        await Client[..].PushAsync("v", new[] { 1.0, 2.0, 3.0 });
        var r = Client[..].ApplyAsync<double[]>("import numpy as np\ndef scaled(k):\n    return np.sqrt(v) * k\n", "scaled", 2.0);
        double[][] result = await r;
        Assert.That(result[1], Is.EqualTo(new[] { 2.0, 2 * Math.Sqrt(2), 2 * Math.Sqrt(3) }).Within(1e-12));
        Assert.That(r.Metadata.All(m => m!.Status == "ok"));
        Assert.That(r.SerialTime, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        Assert.That(r.WallTime, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(r.Elapsed, Is.GreaterThan(TimeSpan.Zero));
        // redefined under the same name: the new definition runs
        await Client[0].ExecuteAsync("def scaled(k):\n    return k + 1\n");
        Assert.That((await Client[0].ApplyAsync<long>("scaled", 1))[0], Is.EqualTo(2L));
        Assert.That(Client[0].ApplyAsync<long>("scaled", 5).Get(Wait)[0], Is.EqualTo(6L));
    }

    [Test, CancelAfter(120_000)]
    public async Task RemoteErrorCarriesThePythonTypeAndTraceback()
    {
        var e = Assert.ThrowsAsync<RemoteException>(async () => await Client[1].ApplyAsync<object>("def boom():\n    return 1 / 0\n", "boom"));
        Assert.That(e!.PythonType, Is.EqualTo("ZeroDivisionError"));
        Assert.That(e.EngineId, Is.EqualTo(1));
        Assert.That(e.RemoteTraceback, Does.Contain("boom").And.Contain("ZeroDivisionError"));
        var composite = Assert.ThrowsAsync<CompositeException>(async () => await Client[..].PullAsync<object>("no_such_name"));
        Assert.That(composite!.InnerExceptions.Cast<RemoteException>().Select(x => x.PythonType), Is.EqualTo(new[] { "NameError", "NameError" }));
        var ar = Client[0].ExecuteAsync("raise ValueError('bad')");
        Assert.That(() => ar.Get(Wait), Throws.TypeOf<RemoteException>().With.Message.Contains("ValueError: bad"));
        Assert.That(ar.Successful, Is.False);
        // the cluster stays usable
        Assert.That(await Client[0].ApplyAsync<long>("def one():\n    return 1\n", "one"), Is.EqualTo(new[] { 1L }));
    }

    [Test, CancelAfter(120_000)]
    public async Task WrongTypeIsAClearError()
    {
        await Client[0].PushAsync("f", new[] { 1.5 });
        var e = Assert.ThrowsAsync<InvalidCastException>(async () => await Client[0].PullAsync<int[]>("f"));
        Assert.That(e!.Message, Does.Contain("engine 0").And.Contain("f8").And.Contain("Double[]"));
    }

    [Test, CancelAfter(120_000)]
    public void UnknownTargetIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Client.DirectView([0, 7]));
        Assert.That(e!.Message, Does.Contain("no engine with id 7").And.Contain("engines: 0, 1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = Client[5]);
    }

    [Test, CancelAfter(120_000)]
    public async Task WrongKeyIsRefused()
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Cluster.ConnectionFile.Path))!.AsObject();
        json["key"] = new string('0', 64);
        string forged = Path.Combine(Dir.Path, "forged-client.json");
        await File.WriteAllTextAsync(forged, json.ToJsonString());
        var e = Assert.ThrowsAsync<AuthenticationException>(async () => await Client.ConnectAsync(urlFile: forged, timeout: Wait));
        Assert.That(e!.Message, Does.Contain("wrong cluster key").Or.Contain("refused"));
    }

    [Test, CancelAfter(120_000)]
    public async Task ControllerQueries()
    {
        var ar = Client[..].ExecuteAsync("q = 1");
        await ar;
        var status = await Client.QueueStatusAsync();
        Assert.That(status.Engines.Keys, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(status.Unassigned, Is.Zero);
        // records reach the controller in batches (every 20 ms): wait until ours are there
        IReadOnlyList<IReadOnlyDictionary<string, object?>> records = [];
        for (int i = 0; i < 100 && records.Count < 2; i++)
        {
            records = await Client.DbQueryAsync(new Dictionary<string, object?> { ["msg_id"] = new Dictionary<string, object?> { ["$in"] = ar.MsgIds.ToList() } },
                ["msg_id", "engine_id", "status", "completed"]);
            if (records.Count < 2) await Task.Delay(50);
        }
        Assert.That(records.Select(r => r["msg_id"]), Is.EquivalentTo(ar.MsgIds));
        Assert.That(records.Select(r => r["status"]), Is.All.EqualTo("ok"));
        Assert.That(records[0]["completed"], Is.TypeOf<DateTime>());
        Assert.That(await Client.HubHistoryAsync(), Is.SupersetOf(ar.MsgIds));
    }

    [Test, CancelAfter(120_000)]
    public void GetWithTimeoutThrowsWhileRunning()
    {
        var ar = Client[0].ExecuteAsync("import time; time.sleep(1.5)");
        Assert.Throws<TaskTimeoutException>(() => ar.Get(TimeSpan.FromMilliseconds(100)));
        Assert.That(ar.Ready, Is.False);
        ar.Get(Wait);
        Assert.That(ar.Ready && ar.Successful);
    }
}

/// <summary>A cluster's life: started, connected to by profile and id, stopped without leaving a process.</summary>
[TestFixture, NonParallelizable]
public sealed class ClusterLifetimeTests
{
    [Test, CancelAfter(120_000)]
    public async Task StoppedClusterGivesClearErrorsAndNothingHangs(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        var cluster = await Cluster.StartAsync(engines: 1, clusterId: "goes-away", cancellationToken: cancellationToken);
        await using var client = await cluster.ConnectAsync(cancellationToken: cancellationToken);
        var running = client[0].ExecuteAsync("import time; time.sleep(60)");
        var lb = client.LoadBalancedView();
        lb.After = running;
        var waiting = lb.ApplyAsync<long>("def one():\n    return 1\n", "one");
        await cluster.DisposeAsync();

        var died = Assert.ThrowsAsync<EngineException>(async () => await running);
        Assert.That(died!.EngineId, Is.EqualTo(0));
        // the task it waited for died with the engine (or the cluster went first): either way it fails, and says why
        var never = Assert.CatchAsync(async () => await waiting);
        Assert.That(never, Is.TypeOf<DependencyException>().Or.TypeOf<ConnectionLostException>());

        Assert.That(client.Ids, Is.Empty);
        // the engine's socket may close before the controller's: the cluster counts as gone once the controller is
        for (int i = 0; i < 200 && !client.ControllerClosed; i++) await Task.Delay(50, cancellationToken);
        Assert.That(client.ControllerClosed, "the client noticed the controller stopped");
        var none = Assert.Throws<ConnectionLostException>(() => client[..].ExecuteAsync("1"));
        Assert.That(none!.Message, Does.Contain("the cluster is gone").And.Contain("Cluster.StartAsync"));
        var dead = Assert.Throws<EngineException>(() => client[0].ExecuteAsync("1"));
        Assert.That(dead!.Message, Does.Contain("is dead").And.Contain("the cluster is gone"));
        var gone = Assert.Throws<ConnectionLostException>(() => client.LoadBalancedView().ApplyAsync<long>("one"));
        Assert.That(gone!.Message, Does.Contain("Client.ConnectAsync").And.Contain("Cluster.StartAsync"));
        Assert.ThrowsAsync<IOException>(async () => await client.QueueStatusAsync(cancellationToken));
    }

    [Test, CancelAfter(120_000)]
    public async Task EnginesThatCannotStart_FailTheWaitAtOnceWithTheirExitAndLog(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        // every rank fails before registering (its Python does not exist): the wait must end when the engines' job
        // does, not at its timeout, and say where to read why
        await using var cluster = await Cluster.StartAsync(engines: 2, clusterId: "never-up",
            mpiArgs: ["--python", Path.Combine(dir.Path, "no-such-python")], cancellationToken: cancellationToken);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var ended = Assert.ThrowsAsync<IOException>(async () =>
            await cluster.ConnectAsync(engineTimeout: TimeSpan.FromSeconds(100), cancellationToken: cancellationToken));
        Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), "the wait ran into its timeout instead of ending with the job");
        Assert.That(ended!.Message, Does.Contain("the engines' MPI job ended").And.Contain("exit code")
            .And.Contain("the engines' log is").And.Contain("0 of the 2 engines"));
    }

    [Test, CancelAfter(120_000)]
    public async Task StopLeavesNoProcess(CancellationToken cancellationToken)
    {
        using var dir = new PrivateClusterDirectory();
        List<int> processes;
        int controller;
        await using (var cluster = await Cluster.StartAsync(engines: 1, profile: "lifetime", clusterId: "c1", cancellationToken: cancellationToken))
        {
            controller = cluster.ControllerPid;
            await using var client = await Client.ConnectAsync(profile: "lifetime", clusterId: "c1", timeout: TimeSpan.FromSeconds(30),
                cancellationToken: cancellationToken);
            await client.WaitForEnginesAsync(1, TimeSpan.FromSeconds(60), cancellationToken);
            Assert.That(await client[0].ApplyAsync<long>("def f(a, b):\n    return a * b\n", "f", 6, 7), Is.EqualTo(new[] { 42L }));
            processes = ProcessTree.Descendants(controller);
            Assert.That(processes, Is.Not.Empty, "the engines run below the controller");
        }
        Assert.That(ProcessTree.Alive(controller), Is.False, "the controller stopped");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (processes.Any(ProcessTree.Alive) && DateTime.UtcNow < deadline) await Task.Delay(100, cancellationToken);
        Assert.That(processes.Where(ProcessTree.Alive), Is.Empty, "no engine process is left");
        Assert.That(File.Exists(ConnectionFile.ClientFilePath("lifetime", "c1")), Is.False, "the connection file is removed");
    }
}
