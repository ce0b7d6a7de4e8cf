using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Earlier results through the controller: get_result, resubmit, purge_results.</summary>
public sealed partial class ClientIntegrationTests
{
    private const string HubFunctions = "import numpy as np\ndef times(a, b):\n    return a * b\n" +
                                        "def ramp(n):\n    return np.arange(n, dtype=np.float64)\n" +
                                        "def nap(s):\n    import time; time.sleep(s); return s\n";

    [Test, CancelAfter(120_000)]
    public async Task GetResultReadsEarlierTasksFromTheDatabaseForAnyClient()
    {
        await Client[..].ExecuteAsync(HubFunctions);
        var lb = Client.LoadBalancedView();
        var product = lb.ApplyAsync<long>("times", 6, 7);
        var ramp = lb.ApplyAsync<double[]>("ramp", 100_000); // 800 kB: kept in the record
        var huge = lb.ApplyAsync<double[]>("ramp", 200_000); // 1.6 MB: over the engines' db_result_limit
        var failed = lb.ApplyAsync<object>(PythonFunction.Named("times"), "a", "b"); // str * str
        await Client.WaitAsync([product, ramp, failed, huge]);

        var again = Client.GetResultAsync<object>(product.MsgIds[0], ramp.MsgIds[0]);
        object[] values = await again.AsTask().WaitAsync(Wait);
        Assert.That(values[0], Is.EqualTo(42L));
        Assert.That((double[])values[1], Is.EqualTo(Enumerable.Range(0, 100_000).Select(i => (double)i).ToArray()));
        Assert.That(again.Metadata.Select(m => m!.MsgId), Is.EqualTo(new[] { product.MsgIds[0], ramp.MsgIds[0] }));
        Assert.That(again.EngineIds, Is.EqualTo(new int?[] { product.EngineId, ramp.EngineId }));

        var error = Assert.ThrowsAsync<RemoteException>(async () => await Client.GetResultAsync<object>(failed));
        Assert.That(error!.PythonType, Is.EqualTo("TypeError"), error.Message + error.RemoteTraceback);
        var notKept = Assert.ThrowsAsync<InvalidOperationException>(async () => await Client.GetResultAsync<double[]>(huge));
        Assert.That(notKept!.Message, Does.Contain("not kept in the task database"));

        // another client (another session) reads them too
        await using var other = await Client.ConnectAsync(urlFile: Cluster.ConnectionFile.Path, timeout: Wait);
        Assert.That(await other.GetResultAsync<long>(product).AsTask().WaitAsync(Wait), Is.EqualTo(new[] { 42L }));
    }

    [Test, CancelAfter(120_000)]
    public async Task GetResultWaitsForAnotherClientsRunningTask()
    {
        await Client[..].ExecuteAsync(HubFunctions);
        await using var other = await Client.ConnectAsync(urlFile: Cluster.ConnectionFile.Path, timeout: Wait);
        await other.WaitForEnginesAsync(2, Wait);
        var running = other.LoadBalancedView().ApplyAsync<double>("nap", 1.0);
        var read = Client.GetResultAsync<double>(running.MsgIds[0]);
        Assert.That(read.Ready, Is.False, "the task is still running");
        Assert.That(await read.AsTask().WaitAsync(Wait), Is.EqualTo(new[] { 1.0 }));
    }

    [Test, CancelAfter(120_000)]
    public async Task GetResultEndsWhenItsClientCloses()
    {
        await Client[..].ExecuteAsync(HubFunctions);
        var reader = await Client.ConnectAsync(urlFile: Cluster.ConnectionFile.Path, timeout: Wait);
        var running = Client.LoadBalancedView().ApplyAsync<double>("nap", 3.0);
        var read = reader.GetResultAsync<double>(running.MsgIds[0]);
        Assert.That(read.Ready, Is.False, "the task is still running");
        await reader.DisposeAsync();
        var e = Assert.CatchAsync(async () => await read.AsTask().WaitAsync(Wait));
        Assert.That(e, Is.InstanceOf<ObjectDisposedException>().Or.InstanceOf<IOException>(), "it ends, and says why");
        await running;
    }

    [Test, CancelAfter(120_000)]
    public void GetResultOfNoSuchTaskIsAClearError()
    {
        var never = Assert.ThrowsAsync<KeyNotFoundException>(async () => await Client.GetResultAsync<object>($"{Client.Session}_999999999"));
        Assert.That(never!.Message, Does.Contain("not in the task database"));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await Client.GetResultAsync<object>("not-a-msg-id"));
        Assert.Throws<ArgumentException>(() => Client.GetResultAsync<object>());
    }

    [Test, CancelAfter(120_000)]
    public async Task ResubmitRunsALoadBalancedTaskAgainUnderANewId()
    {
        await Client[..].ExecuteAsync(HubFunctions);
        var first = Client.LoadBalancedView().ApplyAsync<long>("times", 3, 5);
        await first;
        var second = Client.ResubmitAsync<long>(first);
        Assert.That(await second, Is.EqualTo(new[] { 15L }));
        Assert.That(second.MsgIds, Is.Not.EqualTo(first.MsgIds));

        var direct = Client[0].ApplyAsync<long>("times", 1, 1);
        await direct;
        var e = Assert.Throws<KeyNotFoundException>(() => Client.ResubmitAsync<long>(direct));
        Assert.That(e!.Message, Does.Contain("only this client's load-balanced tasks"));
    }

    [Test, CancelAfter(120_000)]
    public async Task PurgeResultsDropsRecordsAndRefusesWhatIsStillRunning()
    {
        await Client[..].ExecuteAsync(HubFunctions);
        var done = Client.LoadBalancedView().ApplyAsync<long>("times", 2, 2);
        await done;
        Assert.That(await Client.GetResultAsync<long>(done).AsTask().WaitAsync(Wait), Is.EqualTo(new[] { 4L }), "recorded");
        Assert.That(await Client.PurgeResultsAsync(done), Is.EqualTo(1));
        var query = new Dictionary<string, object?> { ["msg_id"] = done.MsgIds[0] };
        Assert.That(await Client.DbQueryAsync(query), Is.Empty, "the record is gone");
        Assert.Throws<KeyNotFoundException>(() => Client.ResubmitAsync<long>(done), "nothing kept to resubmit it");

        var running = Client[1].ApplyAsync<double>("nap", 0.5);
        var busy = Assert.ThrowsAsync<InvalidOperationException>(async () => await Client.PurgeResultsAsync(running));
        Assert.That(busy!.Message, Does.Contain("outstanding").And.Contain("wait for them first"));
        await running;
        Assert.That(await Client.PurgeResultsAsync(engines: [0, 1]), Is.GreaterThanOrEqualTo(0));
        Assert.ThrowsAsync<ArgumentException>(async () => await Client.PurgeResultsAsync());
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Client.PurgeResultsAsync(engines: [9]));
    }
}
