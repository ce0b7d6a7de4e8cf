using PyMpiBridge.Pythonnet;
using PyMpiBridge.ScenarioHost;
using Python.Runtime;
using Ours = PyMpiBridge.Python;

namespace PyMpiBridge.PythonnetHost;

/// <summary>
/// 100k crossings of each kind between pythonnet's and our references: the same object every time, reference counts
/// back where they were, no pinned .NET array left, and resident memory flat after a warm-up of the same length.
/// </summary>
internal static class CrossingScenarios
{
    private const int Crossings = 100_000;

    public static void Run(ScenarioContext context)
    {
        var data = new double[1024];
        using (Py.GIL())
        {
            dynamic np = Py.Import("numpy");
            dynamic sys = Py.Import("sys");
            dynamic builtins = Py.Import("builtins");
            using PyObject plain = PythonEngine.Eval("object()");
            using PyObject array = np.ones(1024);
            long RefCount(PyObject o) => (long)sys.getrefcount(o) - 1; // minus the argument's own reference

            // Each kind: pythonnet -> ours -> pythonnet, a numpy array viewed as a span, our array as a pythonnet argument.
            void Round()
            {
                using var gil = Ours.Py.Gil();
                using (var ours = plain.ToPyMpiBridge())
                using (var back = ours.ToPythonnet())
                using (var again = back.ToPyMpiBridge())
                    if (!ours.Is(again)) throw new InvalidOperationException("a crossing changed the object");
                using (var view = array.GetPyBuffer<double>())
                    if (view.ReadOnlySpan[7] != 1.0) throw new InvalidOperationException("wrong memory");
                using (var shared = Ours.PyArray.From(data))
                using (PyObject length = builtins.len(shared))
                    if (length.As<int>() != data.Length) throw new InvalidOperationException("wrong array");
            }

            long plainBefore = RefCount(plain), arrayBefore = RefCount(array);
            for (int i = 0; i < Crossings; i++) Round(); // warm-up: JIT tiers, allocator pools, the GC's budget
            var before = Footprint.Measure();
            for (int i = 0; i < Crossings; i++) Round();
            var after = Footprint.Measure();
            long plainAfter = RefCount(plain), arrayAfter = RefCount(array), liveExports = Ours.PyArray.LiveExports;

            context.Check("reference counts unchanged by crossings", plainAfter == plainBefore && arrayAfter == arrayBefore,
                $"object {plainBefore} -> {plainAfter}, numpy array {arrayBefore} -> {arrayAfter} after {2 * Crossings} rounds");
            context.Check("no .NET array left pinned", liveExports == 0, $"{liveExports} .NET arrays still shared with numpy");
            long grown = after.Resident - before.Resident;
            context.Check("memory flat over 100k crossings of each kind", grown < 10L << 20 && after.ManagedLive - before.ManagedLive < 1L << 20,
                $"RSS {grown / 1024} KiB, live managed {(after.ManagedLive - before.ManagedLive) / 1024} KiB");
        }
    }

    private readonly record struct Footprint(long Resident, long ManagedLive)
    {
        public static Footprint Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            // pythonnet leaves the objects its codecs return (our arrays passed as arguments) to its finalizer queue.
            using (Py.GIL()) Finalizer.Instance.Collect();
            using (Ours.Py.Gil()) { } // releases what our finalizers queued
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            string[] statm = File.ReadAllText("/proc/self/statm").Split(' ');
            return new(long.Parse(statm[1]) * Environment.SystemPageSize, GC.GetTotalMemory(false));
        }
    }
}
