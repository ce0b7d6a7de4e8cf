namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>Reading benchmark programs' stdout: every record counts, nothing else does, and nothing is silently dropped.</summary>
public class BenchRecordLinesTests
{
    private const string Record = """{"name":"pingpong","impl":"c","size_bytes":8,"metric":"latency_us","value":0.25}""";

    [Test]
    public void Parse_RecordLine_ReadsEveryField()
    {
        var records = BenchRecordLines.Parse([Record], "c");
        Assert.That(records, Is.EqualTo(new[] { new BenchRecord("pingpong", "c", 8, "latency_us", 0.25) }));
    }

    [Test]
    public void Parse_TerminalSetupSequenceBeforeRecord_StillReadsRecord()
    {
        // What the .NET console writes in front of the first line when a rank's stdout is a pty and TERM=xterm.
        var records = BenchRecordLines.Parse(["\u001b[?1h\u001b=" + Record], "c");
        Assert.That(records.Single().SizeBytes, Is.EqualTo(8));
    }

    [Test]
    public void Parse_LinesThatAreNotRecords_AreIgnored()
    {
        var records = BenchRecordLines.Parse(["warning: something from the launcher", "", Record], "c");
        Assert.That(records, Has.Count.EqualTo(1));
    }

    [Test]
    public void Parse_RecordClaimingAnotherImpl_ThrowsNamingBoth()
    {
        var e = Assert.Throws<FormatException>(() => BenchRecordLines.Parse([Record], "csharp"));
        Assert.That(e!.Message, Does.Contain("csharp").And.Contain("'c'"));
    }

    [TestCase("""{"name":"pingpong","impl":"c","size_bytes":8,"metric":"latency_us","value":0}""")]
    [TestCase("""{"name":"pingpong","impl":"c","size_bytes":8,"metric":"latency_us","value":-1}""")]
    [TestCase("""{"name":"pingpong","impl":"c","size_bytes":8,"value":1}""")]
    [TestCase("""{"name":"pingpong","impl":"c",""")]
    public void Parse_MalformedOrImplausibleRecord_Throws(string line)
        => Assert.Throws<FormatException>(() => BenchRecordLines.Parse([line], "c"));
}
