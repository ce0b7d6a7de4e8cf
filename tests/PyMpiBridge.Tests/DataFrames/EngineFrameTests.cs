using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Parallel;
using PyMpiBridge.Tests.Parallel;

namespace PyMpiBridge.Tests.DataFrames;

/// <summary>DataFrames to and from 2 real engines with the C# parallel client: push, pull, scatter and gather by rows.</summary>
[TestFixture, NonParallelizable]
public sealed class EngineFrameTests
{
    private PrivateClusterDirectory _dir = null!;
    private Cluster _cluster = null!;
    private Client _client = null!;

    [OneTimeSetUp]
    public async Task StartCluster()
    {
        _dir = new PrivateClusterDirectory();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        _cluster = await Cluster.StartAsync(engines: 2, clusterId: "dataframe-tests", cancellationToken: cts.Token);
        _client = await _cluster.ConnectAsync(cancellationToken: cts.Token);
    }

    [OneTimeTearDown]
    public async Task StopCluster()
    {
        if (_client is not null) await _client.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        _dir.Dispose();
    }

    private static DataFrame Mixed(int rows) => new(
        new DoubleDataFrameColumn("x", Enumerable.Range(0, rows).Select(i => i * 0.5)),
        new Int32DataFrameColumn("k", Enumerable.Range(0, rows).Select(i => i % 3 == 1 ? (int?)null : i)),
        new BooleanDataFrameColumn("flag", Enumerable.Range(0, rows).Select(i => i % 2 == 0)),
        new DateTimeDataFrameColumn("t", Enumerable.Range(0, rows).Select(i => i == 2 ? (DateTime?)null : new DateTime(2025, 5, 1).AddMinutes(i))),
        new StringDataFrameColumn("s", Enumerable.Range(0, rows).Select(i => i == 3 ? null : $"r{i}")));

    private static bool Same(DataFrame a, DataFrame b) =>
        a.Rows.Count == b.Rows.Count && a.Columns.Count == b.Columns.Count && a.Columns.Zip(b.Columns).All(p =>
            p.First.Name == p.Second.Name && p.First.DataType == p.Second.DataType && p.First.Cast<object?>().SequenceEqual(p.Second.Cast<object?>()));

    [Test, CancelAfter(120_000)]
    public async Task PushedDataFrame_IsAPandasFrameOnEveryEngine_AndPullBringsItBackEqual()
    {
        var frame = Mixed(7);
        await _client[..].PushAsync("df", frame);
        string[] seen = await _client[..].ApplyAsync<string>("""
            import pandas as pd
            def frame_report():
                ok = (isinstance(df, pd.DataFrame) and df['k'].isna().tolist() == [False, True, False, False, True, False, False]
                      and df['t'].isna().sum() == 1 and df['s'].tolist()[3] is None and df.loc[4, 'x'] == 2.0)
                return ' '.join(str(t) for t in df.dtypes) + (' ok' if ok else ' WRONG')
            """, "frame_report");
        Assert.That(seen, Is.All.EqualTo("float64 Int32 bool datetime64[ns] object ok"));

        DataFrame[] back = await _client[..].PullAsync<DataFrame>("df");
        Assert.That(back, Has.Length.EqualTo(2));
        Assert.That(back.All(b => Same(b, frame)), Is.True, back[0].ToString());
    }

    [Test, CancelAfter(120_000)]
    public async Task ScatterRows_SplitsTheRowsOverTheEngines_AndGatherRowsJoinsTheirResults()
    {
        var frame = Mixed(11);
        await _client[..].ScatterRowsAsync("part", frame);
        await _client[..].ExecuteAsync("part = part.assign(y=part['x'] * 2, engine=len(part))");
        DataFrame joined = await _client[..].GatherRowsAsync("part");
        Assert.That(joined.Rows.Count, Is.EqualTo(11));
        Assert.That(joined.Columns["x"].Cast<double>(), Is.EqualTo(frame.Columns["x"].Cast<double>()), "rows in order");
        Assert.That(joined.Columns["k"].Cast<int?>(), Is.EqualTo(frame.Columns["k"].Cast<int?>()), "nulls where they were");
        Assert.That(joined.Columns["s"].Cast<string?>(), Is.EqualTo(frame.Columns["s"].Cast<string?>()));
        Assert.That(joined.Columns["y"].Cast<double>(), Is.EqualTo(frame.Columns["x"].Cast<double>().Select(v => v * 2)));
        Assert.That(joined.Columns["engine"].Cast<long>(), Is.EqualTo(Enumerable.Repeat(6L, 6).Concat(Enumerable.Repeat(5L, 5))),
            "6 rows on the first engine, 5 on the second, as ipyparallel splits");
    }

    [Test, CancelAfter(120_000)]
    public async Task PullingSomethingThatIsNotADataFrame_FailsNamingWhatItIs()
    {
        await _client[..].ExecuteAsync("not_a_frame = [1, 2, 3]");
        var e = Assert.ThrowsAsync<CompositeException>(async () => await _client[..].PullAsync<DataFrame>("not_a_frame"))!;
        Assert.That(e.ToString(), Does.Contain("expected a pandas DataFrame, got a Python builtins.list"));
    }
}
