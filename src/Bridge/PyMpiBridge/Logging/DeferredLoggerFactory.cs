using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Logging;

/// <summary>
/// A logger factory that builds the real one (console provider, options, dependency injection) only when a message
/// passes the minimum level. Building it costs about 40 ms of JIT per process, which every rank of every job paid at
/// start-up although at the default level (Warning) a healthy rank logs nothing.
/// </summary>
internal sealed class DeferredLoggerFactory(LogLevel minimumLevel, Func<ILoggerFactory> create) : ILoggerFactory
{
    private readonly Lock _gate = new();
    private ILoggerFactory? _inner;
    private bool _disposed;

    /// <summary>The level below which messages are dropped without building anything.</summary>
    public LogLevel MinimumLevel { get; } = minimumLevel;

    /// <summary>True once a message needed the real factory (tests pin down that a quiet rank never builds it).</summary>
    internal bool IsCreated => Volatile.Read(ref _inner) is not null;

    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => Inner().AddProvider(provider);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _inner?.Dispose(); // flushes the console queue
        }
    }

    internal bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= MinimumLevel;

    private ILoggerFactory Inner()
    {
        var inner = Volatile.Read(ref _inner);
        if (inner is not null) return inner;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _inner ??= create();
        }
    }

    private sealed class DeferredLogger(DeferredLoggerFactory factory, string category) : ILogger
    {
        private ILogger? _inner;

        private ILogger? Inner()
        {
            if (_inner is not null) return _inner;
            if (factory._disposed) return null; // late messages after shutdown are dropped, as a disposed factory's would be
            return _inner = factory.Inner().CreateLogger(category);
        }

        public bool IsEnabled(LogLevel logLevel) => factory.IsEnabled(logLevel);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => Inner()?.BeginScope(state);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!factory.IsEnabled(logLevel)) return;
            Inner()?.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
