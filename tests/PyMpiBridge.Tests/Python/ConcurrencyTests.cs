using System.Diagnostics;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class ConcurrencyTests
{
    [Test]
    public void EightThreadsCallingPythonForThreeSeconds_NeitherDeadlockNorMixUpResults()
    {
        PyObject function;
        using (Py.Gil())
        {
            using var globals = PythonFixture.Run("""
                import threading
                def work(thread, i):
                    return (thread, i * 2, threading.get_ident())
                """);
            function = globals["work"];
        }
        BridgeModule.Register("square", (long x) => x * x);
        using var pythonCallsCSharp = Py.Gil(); // dispose below, before starting the threads
        pythonCallsCSharp.Dispose();

        const int threads = 8;
        var calls = new long[threads];
        var errors = new List<Exception>();
        var stop = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                while (stop.Elapsed < TimeSpan.FromSeconds(3))
                {
                    using (Py.Gil())
                    {
                        long i = calls[t];
                        using var result = function.Call(t, i);
                        var values = result.As<object?[]>();
                        if ((long)values[0]! != t || (long)values[1]! != 2 * i)
                            throw new InvalidOperationException($"thread {t} got {string.Join(",", values)} for call {i}");
                        if (i % 50 == 0)
                        {
                            using var viaCSharp = Py.Eval($"__import__('_pympibridge').square({i})");
                            if (viaCSharp.As<long>() != i * i) throw new InvalidOperationException("wrong square");
                        }
                        if (i % 100 == 0) using (Py.AllowThreads()) Thread.Yield();
                    }
                    calls[t]++;
                }
            }
            catch (Exception e)
            {
                lock (errors) errors.Add(e);
            }
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        bool finished = workers.All(w => w.Join(TimeSpan.FromSeconds(30)));

        Assert.That(finished, Is.True, "a thread is stuck: GIL deadlock");
        Assert.That(errors, Is.Empty);
        Assert.That(calls, Has.All.GreaterThan(100), "every thread made progress");
        using (Py.Gil()) function.Dispose();
    }

    [Test]
    public void ThreadStartedFromPython_CanCallCSharpWhichTakesTheGilAgain()
    {
        BridgeModule.Register("nested_gil", (long x) =>
        {
            using var gil = Py.Gil(); // reentrant on a thread Python created
            using var r = Py.Eval($"{x} + 1");
            return r.As<long>();
        });
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import threading, _pympibridge
            out = []
            ts = [threading.Thread(target=lambda k=k: out.append(_pympibridge.nested_gil(k))) for k in range(4)]
            for t in ts: t.start()
            for t in ts: t.join(10)
            """);
        Assert.That(globals["out"].As<List<long>>(), Is.EquivalentTo(new long[] { 1, 2, 3, 4 }));
    }
}
