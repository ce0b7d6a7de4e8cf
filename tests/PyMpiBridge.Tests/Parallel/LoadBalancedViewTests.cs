using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>The load balancer, dependencies, retries, timeouts, aborts and waiting, from C#, on a real 2-engine cluster.</summary>
[TestFixture, NonParallelizable]
public sealed class LoadBalancedViewTests() : TwoEngineClusterFixture("csharp-lb-tests")
{
    private const string Helpers = """
        import time
        from mpi4py import MPI

        def rank():
            return MPI.COMM_WORLD.Get_rank()

        def square_and_rank(x):
            return [x * x, MPI.COMM_WORLD.Get_rank()]

        def nap(seconds):
            time.sleep(seconds)
            return seconds

        def stamp(seconds=0.0):
            time.sleep(seconds)
            return time.time()

        def fails_on_engine_0(x):
            if MPI.COMM_WORLD.Get_rank() == 0:
                raise RuntimeError("engine 0 refuses")
            return x

        def boom():
            return 1 / 0
        """;

    protected override async Task PrepareAsync() => await Client[..].ExecuteAsync(Helpers);

    [Test, CancelAfter(60_000)]
    public async Task ApplyRunsOnOneEngineAndSaysWhich()
    {
        var lb = Client.LoadBalancedView();
        var ar = lb.ApplyAsync<long>("def twice(x):\n    return 2 * x\n", "twice", 21);
        Assert.That(await ar, Is.EqualTo(42L));
        Assert.That(ar.EngineId, Is.AnyOf(0, 1));
        Assert.That(ar.Metadata[0]!.EngineId, Is.EqualTo(ar.EngineId));
        Assert.That(ar.Metadata[0]!.Status, Is.EqualTo("ok"));
        Assert.That(await lb.ApplyAsync<long>("rank"), Is.AnyOf(0L, 1L));
    }

    [Test, CancelAfter(60_000)]
    public async Task MapInChunksKeepsInputOrderAndUsesEveryEngine()
    {
        var lb = Client.LoadBalancedView();
        lb.ChunkSize = 7;
        double[] items = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var ar = lb.MapAsync<object?[]>(PythonFunction.Named("square_and_rank"), items);
        object?[][] results = await ar;
        Assert.That(ar.TaskCount, Is.EqualTo(15), "100 items in chunks of 7");
        Assert.That(ar.Count, Is.EqualTo(100));
        Assert.That(ar.Progress, Is.EqualTo(100));
        Assert.That(results.Select(r => Convert.ToDouble(r[0])), Is.EqualTo(items.Select(x => x * x)));
        Assert.That(results.Select(r => Convert.ToInt32(r[1])).Distinct().Order(), Is.EqualTo(new[] { 0, 1 }),
            "the balancer sends to both engines");
    }

    [Test, CancelAfter(60_000)]
    public async Task MapOverSeveralSequencesCutsToTheShortest()
    {
        var lb = Client.LoadBalancedView();
        lb.ChunkSize = 2;
        var sums = await lb.MapAsync<long>(PythonFunction.FromSource("def add(a, b):\n    return int(a + b)\n", "add"),
            new long[] { 1, 2, 3, 4, 5 }, new List<int> { 10, 20, 30 });
        Assert.That(sums, Is.EqualTo(new[] { 11L, 22L, 33L }));
    }

    /// <summary>
    /// Lets the balancer learn that tasks are long, so it keeps one task per engine (it queues about a millisecond of
    /// work per engine): then which engine runs what, and in which order results arrive, is known.
    /// </summary>
    private async Task OneTaskPerEngine()
    {
        foreach (int engine in new[] { 0, 1 })
            await Client.LoadBalancedView([engine]).ApplyAsync<double>("nap", 0.1);
    }

    [Test, CancelAfter(60_000)]
    public async Task UnorderedMapGivesCompletionOrder()
    {
        await OneTaskPerEngine();
        var lb = Client.LoadBalancedView();
        double[] naps = [0.6, 0.0, 0.0, 0.0];
        lb.Ordered = false;
        var unordered = await lb.MapAsync<double>(PythonFunction.Named("nap"), naps);
        Assert.That(unordered, Is.EquivalentTo(naps));
        Assert.That(unordered[^1], Is.EqualTo(0.6), "the long item finishes last");
        lb.Ordered = true;
        Assert.That(await lb.MapAsync<double>(PythonFunction.Named("nap"), naps), Is.EqualTo(naps));
    }

    [Test, CancelAfter(60_000)]
    public async Task ResultsCanBeEnumeratedAsTheyArrive()
    {
        await OneTaskPerEngine();
        var lb = Client.LoadBalancedView();
        lb.Ordered = false;
        var ar = lb.MapAsync<double>(PythonFunction.Named("nap"), new[] { 1.0, 0.0 });
        var seen = new List<double>();
        bool readyAtFirst = true;
        await foreach (double x in ar)
        {
            if (seen.Count == 0) readyAtFirst = ar.Ready;
            seen.Add(x);
        }
        Assert.That(seen, Is.EqualTo(new[] { 0.0, 1.0 }));
        Assert.That(readyAtFirst, Is.False, "the first item came while the other was still running");
        // a direct apply enumerates per engine
        var perEngine = new List<long>();
        await foreach (long r in Client[..].ApplyAsync<long>("rank")) perEngine.Add(r);
        Assert.That(perEngine, Is.EqualTo(new[] { 0L, 1L }));
    }

    [Test, CancelAfter(60_000)]
    public async Task EnumerationThrowsTheFailureOfATask()
    {
        var lb = Client.LoadBalancedView();
        var ar = lb.MapAsync<long>(PythonFunction.FromSource("def inv(x):\n    return 1 // int(x)\n", "inv"), new long[] { 1, 0, 1 });
        var seen = new List<long>();
        var e = Assert.ThrowsAsync<RemoteException>(async () =>
        {
            await foreach (long x in ar) seen.Add(x);
        });
        Assert.That(e!.PythonType, Is.EqualTo("ZeroDivisionError"));
        Assert.That(seen, Is.EqualTo(new[] { 1L }), "items before the failed one were yielded");
        Assert.ThrowsAsync<CompositeException>(async () => await ar);
    }

    [Test, CancelAfter(60_000)]
    public async Task RetriesRunAFailedTaskOnAnotherEngine()
    {
        var lb = Client.LoadBalancedView();
        lb.Retries = 1;
        var retried = Enumerable.Range(0, 4).Select(i => lb.ApplyAsync<long>("fails_on_engine_0", i)).ToList();
        foreach (var ar in retried) Assert.That(await ar, Is.EqualTo((long)retried.IndexOf(ar)));
        Assert.That(retried.Select(ar => ar.EngineId), Is.All.EqualTo(1), "every task ended on engine 1");

        lb.Retries = 0;
        var once = Enumerable.Range(0, 4).Select(i => lb.ApplyAsync<long>("fails_on_engine_0", i)).ToList();
        await Client.WaitAsync(once);
        Assert.That(once.Count(ar => !ar.Successful), Is.GreaterThan(0), "without retries, the tasks engine 0 got failed");
        var failed = once.First(ar => !ar.Successful);
        Assert.ThrowsAsync<RemoteException>(async () => await failed);
        Assert.That(failed.EngineId, Is.EqualTo(0));
    }

    [Test, CancelAfter(60_000)]
    public async Task RetriesNeverGoBackToAnEngineThatFailed()
    {
        var lb = Client.LoadBalancedView();
        lb.Targets = [0];
        lb.Retries = 3;
        var e = Assert.ThrowsAsync<DependencyException>(async () => await lb.ApplyAsync<long>("fails_on_engine_0", 1));
        Assert.That(e!.Message, Does.Contain("no engine can run this task"));
    }

    [Test, CancelAfter(60_000)]
    public async Task TargetsRestrictTheEngines()
    {
        var lb = Client.LoadBalancedView([1]);
        var ranks = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => lb.ApplyAsync<long>("rank").AsTask()));
        Assert.That(ranks, Is.All.EqualTo(1L));
        Assert.Throws<ArgumentOutOfRangeException>(() => Client.LoadBalancedView([0, 9]));
    }

    [Test, CancelAfter(60_000)]
    public async Task AfterStartsATaskOnlyWhenItsDependencyFinished()
    {
        var lb = Client.LoadBalancedView();
        var first = lb.ApplyAsync<double>("stamp", 0.5);
        lb.After = first;
        var second = lb.ApplyAsync<double>("stamp");
        double secondStarted = await second;
        Assert.That(secondStarted, Is.GreaterThanOrEqualTo(await first), "the second task ran after the first finished");
        Assert.That(second.Metadata[0]!.Started!.Value, Is.GreaterThanOrEqualTo(first.Metadata[0]!.Completed!.Value));
    }

    [Test, CancelAfter(60_000)]
    public async Task FollowRunsWhereTheTaskRan()
    {
        var lb = Client.LoadBalancedView();
        var anchor = lb.ApplyAsync<long>("rank");
        long where = await anchor;
        lb.Follow = anchor;
        var followers = Enumerable.Range(0, 6).Select(_ => lb.ApplyAsync<long>("rank")).ToList();
        foreach (var f in followers) Assert.That(await f, Is.EqualTo(where));
    }

    [Test, CancelAfter(60_000)]
    public async Task DependenciesThatCannotBeMetFailTheTask()
    {
        var lb = Client.LoadBalancedView();
        var failing = lb.ApplyAsync<object>("boom");
        lb.After = failing;
        var impossible = Assert.ThrowsAsync<DependencyException>(async () => await lb.ApplyAsync<long>("rank"));
        Assert.That(impossible!.Invalid, Is.False);
        Assert.That(impossible.Message, Does.Contain("can never be met"));

        lb.After = new Dependency([failing], success: false, failure: true);
        Assert.That(await lb.ApplyAsync<long>("rank"), Is.AnyOf(0L, 1L), "met by the failure");

        lb.After = new Dependency(msgIds: ["someone-else_1"]);
        var invalid = Assert.ThrowsAsync<DependencyException>(async () => await lb.ApplyAsync<long>("rank"));
        Assert.That(invalid!.Invalid, Is.True);
    }

    /// <summary>A task that waits in the client for a running one (<paramref name="seconds"/> long) to finish.</summary>
    private (AsyncResult<double> Blocker, AsyncResult<long> Waiting) WaitingBehindASleeper(double seconds, TimeSpan? timeout = null)
    {
        var lb = Client.LoadBalancedView();
        var blocker = lb.ApplyAsync<double>("nap", seconds);
        lb.After = blocker;
        lb.Timeout = timeout;
        return (blocker, lb.ApplyAsync<long>("rank"));
    }

    [Test, CancelAfter(60_000)]
    public async Task TimeoutFailsATaskThatDidNotStartInTime()
    {
        var (blocker, late) = WaitingBehindASleeper(1.5, TimeSpan.FromMilliseconds(200));
        var e = Assert.ThrowsAsync<TaskTimeoutException>(async () => await late);
        Assert.That(e!.Message, Does.Contain("did not start within its timeout"));
        Assert.That(blocker.Ready, Is.False, "it timed out while its dependency was still running");
        await blocker;
    }

    [Test, CancelAfter(60_000)]
    public async Task AbortFailsTasksThatHaveNotStarted()
    {
        var (blocker, waiting) = WaitingBehindASleeper(1.0);
        var status = await Client.QueueStatusAsync();
        Assert.That(status.Unassigned, Is.EqualTo(1), "the dependent task waits in the client");
        Assert.That(Client.Outstanding, Does.Contain(waiting.MsgIds[0]).And.Contain(blocker.MsgIds[0]));
        waiting.Abort();
        var e = Assert.ThrowsAsync<TaskAbortedException>(async () => await waiting);
        Assert.That(e!.Message, Does.Contain(waiting.MsgIds[0]));
        Assert.That(await blocker, Is.EqualTo(1.0), "the running task was not touched");
        Assert.Throws<InvalidOperationException>(() => waiting.Abort(), "a finished result cannot be aborted");
    }

    [Test, CancelAfter(60_000)]
    public async Task AbortReachesTasksQueuedOnTheEngine()
    {
        var busy = Client[0].ExecuteAsync("import time; time.sleep(1.0)");
        var queued = Client[0].ApplyAsync<long>("rank");
        await Task.Delay(200);
        Client.Abort([queued]);
        Assert.ThrowsAsync<TaskAbortedException>(async () => await queued);
        await busy;
    }

    [Test, CancelAfter(60_000)]
    public async Task CancellingAWaitAbortsThePendingTasks()
    {
        var (blocker, waiting) = WaitingBehindASleeper(1.0);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.CatchAsync<OperationCanceledException>(async () => await waiting.AsTask(cts.Token));
        Assert.ThrowsAsync<TaskAbortedException>(async () => await waiting, "the cancelled task was aborted");
        await blocker;
    }

    [Test, CancelAfter(60_000)]
    public async Task ClientWaitHonoursItsTimeout()
    {
        var ar = Client.LoadBalancedView().ApplyAsync<double>("nap", 0.8);
        Assert.That(await Client.WaitAsync([ar], TimeSpan.FromMilliseconds(100)), Is.False);
        Assert.That(await Client.WaitAsync(timeout: Wait), Is.True, "every outstanding task");
        Assert.That(ar.Ready);
        Assert.That(Client.Outstanding, Does.Not.Contain(ar.MsgIds[0]));
    }

    [Test, CancelAfter(60_000)]
    public async Task TinyTasksStreamThroughTheBalancer()
    {
        var lb = Client.LoadBalancedView();
        var all = Enumerable.Range(0, 2000).Select(i => lb.ApplyAsync<long>("rank")).ToList();
        Assert.That(await Client.WaitAsync(all, Wait), Is.True);
        Assert.That(all.All(a => a.Successful));
        var perEngine = all.GroupBy(a => a.EngineId).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(perEngine.Keys.Order(), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(all.All(a => a.Get(Wait) == a.EngineId), "each result is the rank of the engine it ran on");
    }

    [Test, CancelAfter(60_000)]
    public async Task LongTasksAfterATinyBurstGoToTheLeastLoadedEngines()
    {
        // engine 0 learns a deep queue from tiny tasks, engine 1 a shallow one from a slow task: the long tasks that
        // follow must be spread (least loaded first), not all queued on the engine with the most room
        var on0 = Client.LoadBalancedView([0]);
        Assert.That(await Client.WaitAsync(Enumerable.Range(0, 300).Select(_ => on0.ApplyAsync<long>("rank")).ToList(), Wait), Is.True);
        await Client.LoadBalancedView([1]).ApplyAsync<double>("nap", 0.05);
        var naps = Enumerable.Range(0, 4).Select(_ => Client.LoadBalancedView().ApplyAsync<double>("nap", 0.1)).ToList();
        Assert.That(await Client.WaitAsync(naps, Wait), Is.True);
        Assert.That(naps.Select(a => a.EngineId).Distinct().Order(), Is.EqualTo(new[] { 0, 1 }));
    }

    [Test, CancelAfter(60_000)]
    public async Task DirectMapSplitsIntoOneBlockPerEngine()
    {
        var ar = Client[..].MapAsync<object?[]>(PythonFunction.Named("square_and_rank"), Enumerable.Range(0, 11).ToArray());
        var results = await ar;
        Assert.That(ar.TaskCount, Is.EqualTo(2));
        Assert.That(results.Select(r => Convert.ToInt64(r[0])), Is.EqualTo(Enumerable.Range(0, 11).Select(i => (long)i * i)));
        Assert.That(results.Select(r => Convert.ToInt32(r[1])), Is.EqualTo(Enumerable.Repeat(0, 6).Concat(Enumerable.Repeat(1, 5))),
            "the first engine takes the longer block, as ipyparallel splits");
        Assert.That(await Client[1].MapAsync<long>(PythonFunction.Named("rank"), Array.Empty<int>()), Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task SyncImportsImportOnEveryEngine()
    {
        await Client[..].SyncImportsAsync("math", "numpy as np", "from os import path as osp, sep");
        Assert.That(await Client[..].ApplyAsync<double>("def use():\n    return float(np.sqrt(math.pi)) + len(sep) + len(osp.basename('a/bc'))\n", "use"),
            Is.All.EqualTo(Math.Sqrt(Math.PI) + 1 + 2).Within(1e-12));
        var e = Assert.Throws<ArgumentException>(() => Client[..].SyncImportsAsync("numpy; import os"));
        Assert.That(e!.Message, Does.Contain("is not an import"));
        var missing = Assert.ThrowsAsync<CompositeException>(async () => await Client[..].SyncImportsAsync("no_such_module_here"));
        Assert.That(missing!.InnerExceptions.Cast<RemoteException>().Select(r => r.PythonType), Is.All.EqualTo("ModuleNotFoundError"));
    }
}
