using PyMpiBridge.Python;
using PyMpiBridge.Pythonnet;
using PN = Python.Runtime;
using static PyMpiBridge.Benchmarks.PythonBenchSuite;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// pythonnet 3.2.1 (impl <c>pythonnet</c>) beside our embedding (impl <c>csharp</c>), in the same process on the same
/// interpreter (pythonnet attached by <see cref="PythonnetInterop"/>), each row doing the same work the way each API does it
/// best: every timed C# operation takes and releases the GIL itself (ours <c>Py.Gil()</c>, pythonnet's <c>Py.GIL()</c>),
/// except the <c>_gil_held</c> rows, timed inside one GIL scope of the same API; Python calling C# runs under timeit.
/// </summary>
internal static class PythonnetSideBySide
{
    public const string Impl = "pythonnet";

    /// <summary>How the rows were measured, printed under the table.</summary>
    public const string GilDiscipline =
        "csharp = PyMpiBridge, pythonnet = pythonnet 3.2.1 on the same interpreter. GIL: each C# operation takes and releases it " +
        "(ours Py.Gil(), pythonnet Py.GIL()); *_gil_held rows run inside one scope of the same API; Python->C# rows run under timeit.";

    private static readonly long[] ArraySizes = [8, 1L << 20, 1L << 30];
    private const int ListLength = 1 << 20;

    public static void Run(List<BenchRecord> records)
    {
        Calls(records);
        Arrays(records);
        Array2D(records);
        Lists(records);
    }

    private static void Calls(List<BenchRecord> records)
    {
        PyObject globals, f0, f3, a, b, c;
        using (Py.Gil())
        {
            globals = Py.NewGlobals();
            Py.Exec(TimedFunctions, globals);
            (f0, f3, a, b, c) = (globals["f0"], globals["f3"], globals["a"], globals["b"], globals["c"]);
            // pythonnet's way for Python to call C#: a public static method of a loaded assembly, through clr.
            Py.Exec("import clr\nclr.AddReference('PyMpiBridge.Benchmarks')\nfrom PyMpiBridge.Benchmarks import PythonnetBenchTarget", globals);
        }
        PN.PyObject pf0, pf3, pa, pb, pc;
        using (PN.Py.GIL())
            (pf0, pf3, pa, pb, pc) = (f0.ToPythonnet(), f3.ToPythonnet(), a.ToPythonnet(), b.ToPythonnet(), c.ToPythonnet());

        records.Add(new("call_noarg", Impl, 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            using var result = pf0.Invoke();
        })));
        records.Add(new("call_3args", Impl, 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            using var result = pf3.Invoke(pa, pb, pc);
        })));

        // dynamic, with C# values converted on the way (what `dynamic` code looks like on both sides).
        dynamic df3 = f3, pdf3 = pf3;
        records.Add(new("call_dynamic_3args", "csharp", 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            using PyObject result = df3(1, 2.0, "x");
        })));
        records.Add(new("call_dynamic_3args", Impl, 0, "ns_per_call", NanosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            using PN.PyObject result = pdf3(1, 2.0, "x");
        })));

        // The call alone, the GIL held around the whole timed loop.
        using (Py.Gil())
            records.Add(new("call_noarg_gil_held", "csharp", 0, "ns_per_call", NanosecondsPerIteration(() => { using var r = f0.Call(); })));
        using (PN.Py.GIL())
            records.Add(new("call_noarg_gil_held", Impl, 0, "ns_per_call", NanosecondsPerIteration(() => { using var r = pf0.Invoke(); })));
        using (Py.Gil())
            records.Add(new("call_3args_gil_held", "csharp", 0, "ns_per_call", NanosecondsPerIteration(() => { using var r = f3.Call(a, b, c); })));
        using (PN.Py.GIL())
            records.Add(new("call_3args_gil_held", Impl, 0, "ns_per_call", NanosecondsPerIteration(() => { using var r = pf3.Invoke(pa, pb, pc); })));

        records.Add(new("python_calls_csharp", Impl, 0, "ns_per_call", PythonTimeit(globals, "PythonnetBenchTarget.Noop()")));

        using (PN.Py.GIL())
            foreach (var o in new[] { pf0, pf3, pa, pb, pc }) o.Dispose();
        using (Py.Gil())
            foreach (var o in new[] { globals, f0, f3, a, b, c }) o.Dispose();
    }

    private static unsafe void Arrays(List<BenchRecord> records)
    {
        PN.PyObject asarray;
        using (PN.Py.GIL())
        using (var np = PN.Py.Import("numpy"))
            asarray = np.GetAttr("asarray");

        foreach (long bytes in ArraySizes)
        {
            long n = bytes / sizeof(double);
            var dotnet = new double[n];
            PN.PyObject numpyOwned;
            using (PN.Py.GIL())
            using (var np = PN.Py.Import("numpy"))
            using (var length = new PN.PyInt(n))
                numpyOwned = np.InvokeMethod("ones", length);
            RequireSameMemory(asarray, dotnet, () => dotnet[0]);

            records.Add(new("array_to_numpy", Impl, bytes, "us", MicrosecondsPerIteration(() =>
            {
                using var gil = PN.Py.GIL();
                using var wrapped = PN.ConverterExtension.ToPython(dotnet);
                using var array = asarray.Invoke(wrapped);
            })));
            records.Add(new("numpy_to_span", Impl, bytes, "us", MicrosecondsPerIteration(() =>
            {
                // pythonnet's zero-copy route: its PyBuffer and an unsafe span over the address (its Read/Write copy).
                // Without PyBUF.FORMATS, so no element-type check (ours checks): pythonnet marshals Py_buffer.format as a
                // .NET string and frees numpy's format string ("double free or corruption", pythonnet#2371).
                using var gil = PN.Py.GIL();
                using var buffer = numpyOwned.GetBuffer(PN.PyBUF.C_CONTIGUOUS | PN.PyBUF.WRITABLE);
                var span = new Span<double>((void*)buffer.Buffer, checked((int)(buffer.Length / sizeof(double))));
                span[0] += 1;
            })));

            using (PN.Py.GIL()) numpyOwned.Dispose();
            dotnet = null!;
            GC.Collect();
        }
        using (PN.Py.GIL()) asarray.Dispose();
    }

    /// <summary>A 1 MiB <c>double[512, 256]</c> handed to numpy as a 2-D array over the same memory.</summary>
    private static void Array2D(List<BenchRecord> records)
    {
        var grid = new double[512, 256];
        long bytes = grid.LongLength * sizeof(double);
        PN.PyObject asarray;
        using (PN.Py.GIL())
        using (var np = PN.Py.Import("numpy"))
            asarray = np.GetAttr("asarray");
        RequireSameMemory(asarray, grid, () => grid[0, 0]);

        records.Add(new("array2d_to_numpy", "csharp", bytes, "us", MicrosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            using var array = PyArray.From(grid);
        })));
        records.Add(new("array2d_to_numpy", Impl, bytes, "us", MicrosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            using var wrapped = PN.ConverterExtension.ToPython(grid);
            using var array = asarray.Invoke(wrapped);
        })));
        using (PN.Py.GIL()) asarray.Dispose();
    }

    /// <summary>A Python list of 1 Mi floats built from a <c>List&lt;double&gt;</c>, and one read back into a <c>double[]</c> (size: the 8 MiB of doubles).</summary>
    private static void Lists(List<BenchRecord> records)
    {
        var values = Enumerable.Range(0, ListLength).Select(i => (double)i).ToList();
        PyObject source;
        PN.PyObject pnSource;
        using (Py.Gil())
        {
            source = Py.Eval($"[float(i) for i in range({ListLength})]");
            pnSource = source.ToPythonnet();
        }

        records.Add(new("list_to_python", "csharp", ListLength * sizeof(double), "ms", MicrosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            using var list = PyObject.From(values);
        }) / 1000));
        records.Add(new("list_to_python", Impl, ListLength * sizeof(double), "ms", MicrosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            using var list = new PN.PyList();
            foreach (double v in values)
            {
                using var item = new PN.PyFloat(v);
                list.Append(item);
            }
        }) / 1000));
        records.Add(new("list_from_python", "csharp", ListLength * sizeof(double), "ms", MicrosecondsPerIteration(() =>
        {
            using var gil = Py.Gil();
            if (source.As<double[]>().Length != ListLength) throw new InvalidOperationException("wrong length");
        }) / 1000));
        records.Add(new("list_from_python", Impl, ListLength * sizeof(double), "ms", MicrosecondsPerIteration(() =>
        {
            using var gil = PN.Py.GIL();
            if (pnSource.As<double[]>().Length != ListLength) throw new InvalidOperationException("wrong length");
        }) / 1000));

        using (PN.Py.GIL()) pnSource.Dispose();
        using (Py.Gil()) source.Dispose();
    }

    /// <summary>Fails the run unless numpy's array from pythonnet is a view of <paramref name="array"/> (a copy would not be like for like).</summary>
    private static void RequireSameMemory(PN.PyObject asarray, Array array, Func<double> first)
    {
        using var gil = PN.Py.GIL();
        using var wrapped = PN.ConverterExtension.ToPython(array);
        using var view = asarray.Invoke(wrapped);
        using var flat = view.InvokeMethod("ravel");
        using (var value = new PN.PyFloat(42.5)) flat.SetItem(0, value);
        if (first() != 42.5)
            throw new InvalidOperationException("pythonnet's np.asarray copied the .NET array; the array rows would not compare like for like");
    }
}

/// <summary>What Python calls in C# through pythonnet (<c>clr</c>) in the <c>python_calls_csharp</c> row.</summary>
public static class PythonnetBenchTarget
{
    /// <summary>Does nothing: the row measures the call.</summary>
    public static void Noop() { }
}
