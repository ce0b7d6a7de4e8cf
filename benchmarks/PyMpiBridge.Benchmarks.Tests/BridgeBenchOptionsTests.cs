namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>Options of <c>pympi bench bridge</c>: everything by default, subsets in a fixed order, bad input named.</summary>
public class BridgeBenchOptionsTests
{
    [Test]
    public void Parse_NoArguments_MeasuresEveryPartWithAnOddNumberOfRoundsAndEnoughStartups()
    {
        var o = BridgeBenchOptions.Parse([]);
        Assert.That(o.Parts, Is.EqualTo(new[] { "pingpong", "hosted", "startup", "arrays" }));
        Assert.That(o.Rounds % 2, Is.EqualTo(1), "the suite reports the median round");
        Assert.That(o.StartupRuns, Is.GreaterThanOrEqualTo(BridgeBenchOptions.MinimumStartupRuns));
    }

    [Test]
    public void Parse_PartsRoundsRepeatsStartupRunsTimeout_AreTakenAndPartsKeepTheirOrder()
    {
        var o = BridgeBenchOptions.Parse(["--parts", "startup,pingpong", "--rounds", "5", "--repeats", "2", "--startup-runs", "9", "--timeout", "30"]);
        Assert.That(o.Parts, Is.EqualTo(new[] { "pingpong", "startup" }));
        Assert.That((o.Rounds, o.Repeats, o.StartupRuns, o.Timeout), Is.EqualTo((5, 2, 9, TimeSpan.FromSeconds(30))));
    }

    [Test]
    public void Parse_UnknownPart_ThrowsListingTheChoices()
    {
        var e = Assert.Throws<UsageException>(() => BridgeBenchOptions.Parse(["--parts", "pingpong,allreduce"]));
        Assert.That(e!.Message, Does.Contain("allreduce").And.Contain("pingpong,hosted,startup,arrays"));
    }

    [Test]
    public void Parse_FewerStartupRunsThanAMedianNeeds_ThrowsWithTheMinimum()
    {
        var e = Assert.Throws<UsageException>(() => BridgeBenchOptions.Parse(["--startup-runs", "3"]));
        Assert.That(e!.Message, Does.Contain("--startup-runs").And.Contain("5").And.Contain("'3'"));
    }

    [TestCase("--rounds", "0")]
    [TestCase("--repeats", "x")]
    [TestCase("--timeout", "-1")]
    public void Parse_BadValue_ThrowsNamingTheOption(string option, string value)
    {
        var e = Assert.Throws<UsageException>(() => BridgeBenchOptions.Parse([option, value]));
        Assert.That(e!.Message, Does.Contain(option).And.Contain(value));
    }

    [Test]
    public void Parse_UnknownOptionOrMissingValue_Throws()
    {
        Assert.Throws<UsageException>(() => BridgeBenchOptions.Parse(["--impl", "c"]));
        Assert.Throws<UsageException>(() => BridgeBenchOptions.Parse(["--parts"]));
    }
}
