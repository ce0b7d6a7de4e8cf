using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace PyMpiBridge.Logging;

/// <summary>Options for <see cref="RankConsoleFormatter"/>: the rank every line is tagged with.</summary>
public sealed class RankConsoleFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>This process's rank in MPI_COMM_WORLD, or null before MPI is up.</summary>
    public int? Rank { get; set; }
}

/// <summary>
/// One line per message, tagged with the rank: <c>[rank 2] warn PyMpiBridge.Session: message</c>.
/// Several ranks write to one terminal, so a line must say who wrote it without any other context.
/// </summary>
public sealed class RankConsoleFormatter : ConsoleFormatter, IDisposable
{
    public const string FormatterName = "pympi-rank";
    private readonly IDisposable? _reload;
    private RankConsoleFormatterOptions _options;

    public RankConsoleFormatter(IOptionsMonitor<RankConsoleFormatterOptions> options) : base(FormatterName)
    {
        _options = options.CurrentValue;
        _reload = options.OnChange(o => _options = o);
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        string rank = RankTag(_options.Rank);
        textWriter.Write(rank);
        textWriter.Write(' ');
        textWriter.Write(LevelName(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(logEntry.Category);
        textWriter.Write(": ");
        textWriter.Write(message);
        if (logEntry.Exception is not null)
        {
            // Every line of a multi-line exception keeps the rank tag, so interleaved output stays attributable.
            foreach (string line in logEntry.Exception.ToString().Split('\n'))
            {
                textWriter.Write(Environment.NewLine);
                textWriter.Write(rank);
                textWriter.Write("   ");
                textWriter.Write(line.TrimEnd('\r'));
            }
        }
        textWriter.Write(Environment.NewLine);
    }

    /// <summary>The prefix used on every line written on behalf of a rank.</summary>
    public static string RankTag(int? rank) => rank is int r ? $"[rank {r}]" : "[rank ?]";

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    public void Dispose() => _reload?.Dispose();
}
