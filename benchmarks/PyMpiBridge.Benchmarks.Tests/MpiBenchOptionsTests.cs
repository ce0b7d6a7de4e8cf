namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>Options of <c>pympi bench mpi</c>: sensible defaults, and bad input rejected with a message that says what is allowed.</summary>
public class MpiBenchOptionsTests
{
    [Test]
    public void Parse_NoArguments_RunsAllImplementationsAtThreadMultipleWithAnOddNumberOfRounds()
    {
        var o = MpiBenchOptions.Parse([]);
        Assert.That(o.Impls, Is.EqualTo(new[] { "c", "csharp", "mpi4py" }));
        Assert.That(o.ThreadLevel, Is.EqualTo("multiple"));
        Assert.That(o.Rounds % 2, Is.EqualTo(1), "the suite reports the median round");
    }

    [Test]
    public void Parse_ImplSubsetRoundsRepeatsThreadLevel_AreTaken()
    {
        var o = MpiBenchOptions.Parse(["--impl", "c,mpi4py", "--rounds", "5", "--repeats", "3", "--thread-level", "single", "--timeout", "30"]);
        Assert.That(o, Is.EqualTo(new MpiBenchOptions(o.Impls, 5, 3, "single", TimeSpan.FromSeconds(30))));
        Assert.That(o.Impls, Is.EqualTo(new[] { "c", "mpi4py" }));
    }

    [Test]
    public void Parse_UnknownImpl_ThrowsListingTheChoices()
    {
        var e = Assert.Throws<UsageException>(() => MpiBenchOptions.Parse(["--impl", "c,fortran"]));
        Assert.That(e!.Message, Does.Contain("fortran").And.Contain("c,csharp,mpi4py"));
    }

    [TestCase("--rounds", "0")]
    [TestCase("--repeats", "-2")]
    [TestCase("--timeout", "soon")]
    [TestCase("--thread-level", "funneled")]
    public void Parse_BadValue_ThrowsNamingTheOption(string option, string value)
    {
        var e = Assert.Throws<UsageException>(() => MpiBenchOptions.Parse([option, value]));
        Assert.That(e!.Message, Does.Contain(option).And.Contain(value));
    }

    [Test]
    public void Parse_ThreadLevelNotAChoice_IsRefusedAsPympisChoiceOptionsAre()
    {
        // One option shape for both command lines: the same words as `pympi cluster start --db redis`.
        var e = Assert.Throws<UsageException>(() => MpiBenchOptions.Parse(["--thread-level", "funneled"]));
        Assert.That(e!.Message, Is.EqualTo("--thread-level must be one of multiple, single; got 'funneled'."));
    }

    [Test]
    public void Parse_OptionWithoutValue_Throws()
        => Assert.Throws<UsageException>(() => MpiBenchOptions.Parse(["--rounds"]));
}
