namespace PyMpiBridge.Benchmarks.Tests;

/// <summary><c>bench parallel</c>'s words: which go to the Python script, which to the C# client worker.</summary>
public class ParallelBenchSuiteTests
{
    [Test]
    public void Split_NoImpl_RunsBothWithTheCountsForBoth()
    {
        var (script, runScript, worker, runCSharp, timeout) = ParallelBenchSuite.Split(["--tasks", "500", "--timeout", "120"]);
        Assert.That(runScript && runCSharp);
        Assert.That(script, Is.EqualTo(new[] { "--tasks", "500", "--timeout", "120" }));
        Assert.That(worker, Is.EqualTo(new[] { "--tasks", "500" }), "the worker takes the counts only");
        Assert.That(timeout, Is.EqualTo(TimeSpan.FromSeconds(120)));
    }

    [Test]
    public void Split_OnlyTheCSharpClient_SkipsTheScript()
    {
        var (_, runScript, worker, runCSharp, _) = ParallelBenchSuite.Split(["--impl", "ours-csharp", "--map-items", "100"]);
        Assert.That(runScript, Is.False);
        Assert.That(runCSharp);
        Assert.That(worker, Is.EqualTo(new[] { "--map-items", "100" }));
    }

    [Test]
    public void Split_ScriptImplsOnly_SkipsTheCSharpClientAndKeepsTheirImpl()
    {
        var (script, runScript, _, runCSharp, _) = ParallelBenchSuite.Split(["--impl", "ours", "--impl", "ipyparallel"]);
        Assert.That(runScript);
        Assert.That(runCSharp, Is.False);
        Assert.That(script, Is.EqualTo(new[] { "--impl", "ours", "--impl", "ipyparallel" }));
    }

    [Test]
    public void Split_BothKinds_RunsBothAndTheScriptNeverSeesOursCSharp()
    {
        var (script, runScript, _, runCSharp, _) = ParallelBenchSuite.Split(["--impl", "ours", "--impl", "ours-csharp"]);
        Assert.That(runScript && runCSharp);
        Assert.That(script, Is.EqualTo(new[] { "--impl", "ours" }));
    }

    [Test]
    public void Split_Scale_RunsOnlyTheScriptWithTheEngineCounts()
    {
        var (script, runScript, _, runCSharp, _) = ParallelBenchSuite.Split(["--scale", "--engines", "2,8"]);
        Assert.That(runScript);
        Assert.That(runCSharp, Is.False, "the scaling run is the Python client against ipyparallel");
        Assert.That(script, Is.EqualTo(new[] { "--scale", "--engines", "2,8" }));
    }

    [Test]
    public void Split_ScaleWithOnlyTheCSharpClient_SaysThereIsNoSuchRun()
    {
        var e = Assert.Throws<ArgumentException>(() => ParallelBenchSuite.Split(["--scale", "--impl", "ours-csharp"]));
        Assert.That(e!.Message, Does.Contain("drop --scale"));
    }

    [Test]
    public void ParseRecord_ReadsTheEngineCountOfAScalingRecord()
    {
        var scaled = ParallelBenchSuite.ParseRecord("""{"name": "parallel", "impl": "ours", "metric": "cluster_start_s", "value": 3.5, "engines": 32}""");
        var plain = ParallelBenchSuite.ParseRecord("""{"name": "parallel", "impl": "ours", "metric": "cluster_start_s", "value": 1.5}""");
        Assert.That(scaled!.Engines, Is.EqualTo(32));
        Assert.That(scaled.Value, Is.EqualTo(3.5));
        Assert.That(plain!.Engines, Is.Null);
    }

    [Test]
    public void Records_WithAnEngineCount_WriteItToJsonAndOthersDoNot()
    {
        string scaled = System.Text.Json.JsonSerializer.Serialize(new BenchRecord("parallel", "ours", 0, "cluster_start_s", 1, 8));
        string plain = System.Text.Json.JsonSerializer.Serialize(new BenchRecord("parallel", "ours", 0, "cluster_start_s", 1));
        Assert.That(scaled, Does.Contain("\"engines\":8"));
        Assert.That(plain, Does.Not.Contain("engines"));
    }
}
