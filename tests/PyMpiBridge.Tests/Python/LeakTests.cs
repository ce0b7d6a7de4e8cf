using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

/// <summary>Per-call leaks (pythonnet #541, #1476): resident memory must stay flat over many calls.</summary>
[NonParallelizable]
public class LeakTests
{
    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using (Py.Gil()) { } // drain anything the finalizers queued
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1]) * Environment.SystemPageSize;
    }

    private static void Repeat(int count, Action action)
    {
        for (int i = 0; i < count; i++) action();
    }

    [Test]
    public void MillionCallsEachWay_KeepResidentMemoryFlat()
    {
        PyObject function;
        using (Py.Gil())
        {
            using var globals = PythonFixture.Run("def f(a, b, c): return a + len(c) + b");
            function = globals["f"];
        }
        BridgeModule.Register("plus_one", (long x) => x + 1);
        void OneCall()
        {
            using var gil = Py.Gil();
            using var r = function.Call(1, 2.5, "abc");
            if (r.As<double>() != 6.5) throw new InvalidOperationException("wrong result");
        }
        Repeat(20_000, OneCall); // warm up: JIT, caches, allocator pools
        long before = ResidentBytes();
        Repeat(1_000_000, OneCall);
        using (Py.Gil())
        {
            Py.Exec("""
                import _pympibridge
                g = _pympibridge.plus_one
                for i in range(1_000_000):
                    g(i)
                """);
        }
        long growth = ResidentBytes() - before;
        TestContext.Out.WriteLine($"RSS growth after 2,000,000 calls: {growth / 1024} KiB");
        Assert.That(growth, Is.LessThan(10L << 20));
        using (Py.Gil()) function.Dispose();
    }

    [Test]
    public void HundredThousandArrayHandoffs_KeepResidentMemoryFlatAndReleaseEveryPin()
    {
        var data = new double[1024];
        void OneHandoff()
        {
            using var gil = Py.Gil();
            using var array = PyArray.From(data);
            using var back = array.GetBuffer<double>();
            back.Span[0] += 1;
        }
        Repeat(5_000, OneHandoff);
        long pinsBefore = PyArray.LiveExports;
        long before = ResidentBytes();
        Repeat(100_000, OneHandoff); long mid = ResidentBytes(); Repeat(300_000, OneHandoff); TestContext.Out.WriteLine($"extra 300k: {(ResidentBytes() - mid) / 1024} KiB");
        long growth = ResidentBytes() - before;
        TestContext.Out.WriteLine($"RSS growth after 100,000 array handoffs: {growth / 1024} KiB");
        Assert.That(growth, Is.LessThan(10L << 20));
        Assert.That(PyArray.LiveExports, Is.EqualTo(pinsBefore));
        Assert.That(data[0], Is.EqualTo(105_000));
    }
}
