using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Logging;

/// <summary>Creates logger factories whose console lines carry the rank.</summary>
public static class RankLogging
{
    /// <summary>Environment variable that sets the minimum level (Trace, Debug, Information, Warning, Error).</summary>
    public const string LevelVariable = "PYMPI_LOG_LEVEL";

    /// <summary>
    /// A console logger factory tagging lines with <paramref name="rank"/>. Logs go to stderr so that a
    /// program's own stdout stays clean for its results. The level comes from <paramref name="minimumLevel"/>,
    /// else <c>PYMPI_LOG_LEVEL</c>, else Warning (a 64-rank job must not print 64 banners by default).
    /// </summary>
    public static ILoggerFactory CreateFactory(int? rank, LogLevel? minimumLevel = null)
    {
        LogLevel level = minimumLevel ?? ParseLevel(Environment.GetEnvironmentVariable(LevelVariable)) ?? LogLevel.Warning;
        // Deferred: the console pipeline is built on the first message that passes the level, not at start-up.
        return new DeferredLoggerFactory(level, () => LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddConsole(o =>
            {
                o.FormatterName = RankConsoleFormatter.FormatterName;
                o.LogToStandardErrorThreshold = LogLevel.Trace;
            });
            builder.AddConsoleFormatter<RankConsoleFormatter, RankConsoleFormatterOptions>(o => o.Rank = rank);
        }));
    }

    internal static LogLevel? ParseLevel(string? text) =>
        Enum.TryParse(text, ignoreCase: true, out LogLevel level) ? level : null;
}
