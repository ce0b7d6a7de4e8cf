using Microsoft.Extensions.Logging;
using PyMpiBridge.Logging;

namespace PyMpiBridge.Tests.Bridge;

/// <summary>The rank's logger factory builds the console pipeline only for a message that passes the level.</summary>
public class DeferredLoggerFactoryTests
{
    private sealed class RecordingFactory : ILoggerFactory, ILogger
    {
        public readonly List<(string Category, LogLevel Level, string Message)> Messages = [];
        public bool Disposed;
        private string _category = "";
        public ILogger CreateLogger(string categoryName) => new RecordingFactory { _category = categoryName, Parent = this };
        private RecordingFactory? Parent;
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() => Disposed = true;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Parent!.Messages.Add((_category, logLevel, formatter(state, exception)));
    }

    [Test]
    public void MessagesBelowTheLevel_NeverBuildTheRealFactory()
    {
        int built = 0;
        using var factory = new DeferredLoggerFactory(LogLevel.Warning, () => { built++; return new RecordingFactory(); });
        var log = factory.CreateLogger("PyMpiBridge.Rank");
        log.LogInformation("MPI up");
        log.LogDebug("details");
        Assert.That(built, Is.Zero);
        Assert.That(log.IsEnabled(LogLevel.Information), Is.False);
        Assert.That(log.IsEnabled(LogLevel.Warning), Is.True);
        Assert.That(factory.IsCreated, Is.False);
    }

    [Test]
    public void MessagesAtTheLevel_BuildTheFactoryOnceAndArriveWithTheirCategory()
    {
        int built = 0;
        var inner = new RecordingFactory();
        var factory = new DeferredLoggerFactory(LogLevel.Warning, () => { built++; return inner; });
        factory.CreateLogger("A").LogWarning("first {N}", 1);
        factory.CreateLogger("B").LogError("second");
        Assert.That(built, Is.EqualTo(1));
        Assert.That(inner.Messages, Is.EqualTo(new[] { ("A", LogLevel.Warning, "first 1"), ("B", LogLevel.Error, "second") }));
        factory.Dispose();
        Assert.That(inner.Disposed, Is.True, "disposing must flush and dispose the real factory");
    }

    [Test]
    public void AfterDispose_LateMessagesAreDroppedWithoutThrowing()
    {
        var factory = new DeferredLoggerFactory(LogLevel.Warning, () => new RecordingFactory());
        var log = factory.CreateLogger("A");
        factory.Dispose();
        Assert.DoesNotThrow(() => log.LogWarning("too late"));
    }
}
