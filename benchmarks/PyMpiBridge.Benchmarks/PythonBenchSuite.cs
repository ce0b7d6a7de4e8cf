using System.Diagnostics;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;
using PyMpiBridge.Pythonnet;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Calls and array hand-offs between C# and the embedded CPython, each beside its natural baseline measured in the
/// same run: CPython calling the same Python function (impl <c>python</c>, via timeit) for calls, and a plain
/// memcpy of the same size (impl <c>memcpy</c>) for arrays — what any copying bridge pays at least; and pythonnet
/// (impl <c>pythonnet</c>, <see cref="PythonnetSideBySide"/>) on the same interpreter, with a csharp/pythonnet ratio.
/// Every number is the median of several repeats after a warm-up; a C# call includes taking and releasing the GIL.
/// </summary>
public sealed class PythonBenchSuite : IBenchSuite
{
    private const int Repeats = 7;
    private static readonly long[] ArraySizes = [8, 1L << 20, 1L << 30];

    public string BaselineImpl => "memcpy";

    public IReadOnlyList<(string Impl, string Baseline)> Comparisons => [("csharp", PythonnetSideBySide.Impl)];

    public string? Note => PythonnetSideBySide.GilDiscipline;

    public Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
    {
        // A rank session (MPI as a singleton, then Python sharing it), so exported functions can take a Comm; pythonnet
        // attached to the same interpreter, so both are measured in one process on one Python.
        using var session = PythonnetInterop.Start([]);
        Console.WriteLine($"embedded {session.Python}");
        var records = new List<BenchRecord>();
        Calls(records);
        Arrays(records);
        DataFrameBench.Run(records);
        PythonnetSideBySide.Run(records);
        return Task.FromResult<IReadOnlyList<BenchRecord>>(records);
    }

    private static void Calls(List<BenchRecord> records)
    {
        PyObject globals, noArgs, threeArgs, a, b, c;
        using (Py.Gil())
        {
            globals = Py.NewGlobals();
            Py.Exec(TimedFunctions, globals);
            noArgs = globals["f0"];
            threeArgs = globals["f3"];
            (a, b, c) = (globals["a"], globals["b"], globals["c"]);
        }
        BridgeModule.Register("bench_noop", _ => null);
        // The typed export of a real kernel's shape: a communicator, a numpy array viewed as a span, a scalar.
        BridgeModule.Register("bench_typed", new Func<Comm, PyBuffer<double>, double, double>(
            static (comm, a, f) => comm.Size + a.ReadOnlySpan[0] * f));
        using (Py.Gil())
            Py.Exec("""
                import numpy
                from pympibridge import world
                arr = numpy.ones(8)
                """, globals);

        records.Add(new("call_noarg", "csharp", 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            using var result = noArgs.Call();
        })));
        records.Add(new("call_noarg", "python", 0, "ns_per_call", PythonTimeit(globals, "f0()")));
        records.Add(new("call_3args", "csharp", 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            using var result = threeArgs.Call(a, b, c);
        })));
        records.Add(new("call_3args", "python", 0, "ns_per_call", PythonTimeit(globals, "f3(a, b, c)")));
        records.Add(new("python_calls_csharp", "csharp", 0, "ns_per_call", PythonTimeit(globals, "_pympibridge.bench_noop()")));
        records.Add(new("python_calls_csharp", "python", 0, "ns_per_call", PythonTimeit(globals, "f0()")));
        // Python calling a C# function with typed parameters (Comm, PyBuffer<double>, double) through its compiled invoker.
        records.Add(new("python_calls_csharp_typed", "csharp", 0, "ns_per_call", PythonTimeit(globals, "_pympibridge.bench_typed(world, arr, 2.0)")));
        records.Add(new("python_calls_csharp_typed", "python", 0, "ns_per_call", PythonTimeit(globals, "f3(world, arr, 2.0)")));

        using (Py.Gil())
            foreach (var o in new[] { globals, noArgs, threeArgs, a, b, c }) o.Dispose();
    }

    /// <summary>The functions both bridges call, and <c>per_call_ns</c>: timeit's median per call (after a warm-up).</summary>
    internal const string TimedFunctions = """
        import timeit, _pympibridge
        def f0(): return None
        def f3(a, b, c): return None
        a, b, c = 1, 2.0, 'x'
        def per_call_ns(stmt, n, repeats):
            timer = timeit.Timer(stmt, globals=globals())
            timer.timeit(n // 10)
            return sorted(timer.timeit(n) / n * 1e9 for _ in range(repeats))[repeats // 2]
        """;

    internal static double PythonTimeit(PyObject globals, string statement)
    {
        using var gil = Py.Gil();
        using var ns = Py.Eval($"per_call_ns({statement!.Replace("'", "\\'").Insert(0, "'")}', 1_000_000, {Repeats})", globals);
        return ns.As<double>();
    }

    private static void Arrays(List<BenchRecord> records)
    {
        // Allocated once per size (the largest is 1 GiB): the .NET array shared with numpy, a numpy-owned array
        // viewed from C#, and the memcpy destination.
        foreach (long bytes in ArraySizes)
        {
            long n = bytes / sizeof(double);
            var dotnet = new double[n];
            PyObject numpyOwned;
            using (Py.Gil())
            {
                using var np = Py.Import("numpy");
                numpyOwned = np.CallMethod("ones", n);
            }

            records.Add(new("array_to_numpy", "csharp", bytes, "us", MicrosecondsPerIteration(() =>
            {
                using var gil = Py.Gil();
                using var array = PyArray.From(dotnet);
            })));
            records.Add(new("numpy_to_span", "csharp", bytes, "us", MicrosecondsPerIteration(() =>
            {
                using var gil = Py.Gil();
                using var view = numpyOwned.GetBuffer<double>();
                view.Span[0] += 1;
            })));

            double copy;
            using (Py.Gil())
            using (var source = numpyOwned.GetBuffer<double>())
            {
                var from = source; // the numpy memory, copied into the .NET array: what a copying bridge pays
                copy = MicrosecondsPerIteration(() => from.ReadOnlySpan.CopyTo(dotnet));
            }
            records.Add(new("array_to_numpy", "memcpy", bytes, "us", copy));
            records.Add(new("numpy_to_span", "memcpy", bytes, "us", copy));

            using (Py.Gil()) numpyOwned.Dispose();
            dotnet = null!;
            GC.Collect();
        }
    }

    internal static double NanosecondsPerIteration(Action body) => SecondsPerIteration(body) * 1e9;
    internal static double MicrosecondsPerIteration(Action body) => SecondsPerIteration(body) * 1e6;

    /// <summary>Calibrates a batch of about 50 ms, warms up, then returns the median per-iteration time of <see cref="Repeats"/> batches.</summary>
    private static double SecondsPerIteration(Action body)
    {
        long batch = 1;
        while (true)
        {
            double t = Time(body, batch);
            if (t > 0.05 || batch >= 1L << 26) break;
            batch *= t < 0.005 ? 10 : 2;
        }
        for (int w = 0; w < 4; w++) Time(body, batch); // warm-up at full batch size (JIT tiers, caches)
        var samples = new double[Repeats];
        for (int r = 0; r < Repeats; r++) samples[r] = Time(body, batch) / batch;
        Array.Sort(samples);
        return samples[Repeats / 2];
    }

    private static double Time(Action body, long iterations)
    {
        var watch = Stopwatch.StartNew();
        for (long i = 0; i < iterations; i++) body();
        return watch.Elapsed.TotalSeconds;
    }
}
