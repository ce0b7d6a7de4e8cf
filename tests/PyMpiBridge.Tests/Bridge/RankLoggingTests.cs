using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using PyMpiBridge.Logging;

namespace PyMpiBridge.Tests.Bridge;

public class RankLoggingTests
{
    private static string Format(int? rank, LogLevel level, string message, Exception? exception = null)
    {
        var options = new StaticOptionsMonitor(new RankConsoleFormatterOptions { Rank = rank });
        using var formatter = new RankConsoleFormatter(options);
        var writer = new StringWriter();
        var entry = new LogEntry<string>(level, "PyMpiBridge.Rank", default, message, exception, (s, _) => s);
        formatter.Write(entry, null, writer);
        return writer.ToString();
    }

    [Test]
    public void EveryLine_IsTaggedWithTheRank_AndLevelAndCategory()
    {
        Assert.That(Format(3, LogLevel.Warning, "halo late"), Is.EqualTo($"[rank 3] warn PyMpiBridge.Rank: halo late{Environment.NewLine}"));
    }

    [Test]
    public void ExceptionLines_KeepTheRankTag_SoInterleavedOutputStaysAttributable()
    {
        string text = Format(2, LogLevel.Error, "step failed", new InvalidOperationException("bad halo"));
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.GreaterThan(1));
        Assert.That(lines, Is.All.StartWith("[rank 2]"));
        Assert.That(text, Does.Contain("System.InvalidOperationException: bad halo"));
    }

    [Test]
    public void BeforeMpiIsUp_TheRankIsShownAsUnknown() =>
        Assert.That(Format(null, LogLevel.Information, "starting"), Does.StartWith("[rank ?] info "));

    [TestCase("debug", LogLevel.Debug)]
    [TestCase("Warning", LogLevel.Warning)]
    [TestCase("nonsense", null)]
    public void LevelVariable_IsParsedCaseInsensitively(string text, LogLevel? expected) =>
        Assert.That(RankLogging.ParseLevel(text), Is.EqualTo(expected));

    private sealed class StaticOptionsMonitor(RankConsoleFormatterOptions value) : IOptionsMonitor<RankConsoleFormatterOptions>
    {
        public RankConsoleFormatterOptions CurrentValue => value;
        public RankConsoleFormatterOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<RankConsoleFormatterOptions, string?> listener) => null;
    }
}
