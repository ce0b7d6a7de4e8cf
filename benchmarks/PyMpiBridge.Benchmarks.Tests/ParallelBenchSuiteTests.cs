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
}
