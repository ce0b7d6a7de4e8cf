using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// The client's one reading thread (as the Python client's I/O thread): it waits on every engine socket at once and
/// hands what arrives to its connection, which completes the tasks. For a while after traffic, while tasks are
/// outstanding, it polls instead of sleeping: waking a sleeping thread costs tens of microseconds on these machines,
/// more than a tiny task's whole run. Idle, it sleeps in <c>poll</c> and uses no CPU.
/// </summary>
internal sealed class ReplyPump : IDisposable
{
    /// <summary>How long to keep polling after traffic (<c>PYMPI_CLIENT_SPIN_US</c>, as the Python client).</summary>
    private static readonly long HotSpinTicks = (long)(Stopwatch.Frequency *
        (double.TryParse(Environment.GetEnvironmentVariable("PYMPI_CLIENT_SPIN_US"), out double us) ? us : 300) * 1e-6);

    /// <summary>A source of frames the pump reads (an engine connection).</summary>
    public interface IReadable
    {
        int Descriptor { get; }
        /// <summary>Whether replies are awaited from it (the pump keeps polling a while after traffic only then).</summary>
        bool Waiting { get; }
        /// <summary>Data (or the end) arrived: read it and handle what is complete. Runs on the pump's thread.</summary>
        void OnReadable();
    }

    [ThreadStatic] private static bool t_onPump;

    private readonly LocalTransport.WakeEvent _wake = new();
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private IReadable[] _sources = [];
    private volatile bool _closed;

    public ReplyPump(ILogger logger)
    {
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "pympi-client-replies" };
        _thread.Start();
    }

    /// <summary>True on the pump's thread (a send from there must not block on a peer that waits for us to read).</summary>
    public static bool OnPumpThread => t_onPump;

    public void Add(IReadable source)
    {
        lock (_wake) _sources = [.. _sources, source];
        _wake.Signal();
    }

    public void Remove(IReadable source)
    {
        lock (_wake) _sources = _sources.Where(s => s != source).ToArray();
        _wake.Signal();
    }

    private void Run()
    {
        t_onPump = true;
        long busyUntil = 0;
        var entries = new LocalTransport.PollEntry[1];
        while (!_closed)
        {
            var sources = Volatile.Read(ref _sources);
            if (entries.Length != sources.Length + 1) entries = new LocalTransport.PollEntry[sources.Length + 1];
            entries[0].Descriptor = _wake.Descriptor;
            for (int i = 0; i < sources.Length; i++) entries[i + 1].Descriptor = sources[i].Descriptor;
            bool hot = Stopwatch.GetTimestamp() < busyUntil && sources.Any(s => s.Waiting);
            int ready;
            try
            {
                ready = LocalTransport.Poll(entries, hot ? 0 : -1);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "waiting for engine replies failed");
                Thread.Sleep(10);
                continue;
            }
            if (ready == 0) continue;
            busyUntil = Stopwatch.GetTimestamp() + HotSpinTicks;
            if (entries[0].Readable) _wake.Drain();
            for (int i = 0; i < sources.Length; i++)
            {
                if (!entries[i + 1].Readable && !entries[i + 1].Closed) continue;
                try
                {
                    sources[i].OnReadable();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "handling what an engine sent failed");
                }
            }
        }
    }

    public void Dispose()
    {
        _closed = true;
        _wake.Signal();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(2));
        _wake.Dispose();
    }
}
