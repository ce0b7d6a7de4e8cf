using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public static class ExportedFunctions
{
    [PythonExport]
    public static long AddNumbers(long a, long b = 10) => a + b;

    [PythonExport("scale_in_place", Doc = "multiplies a float64 array in place")]
    public static void Scale(PyBuffer<double> values, double factor)
    {
        foreach (ref double v in values.Span) v *= factor;
    }
}

public class BridgeModuleTests
{
    [Test]
    public void TypedDelegate_IsCallableFromPythonWithPositionalAndKeywordArguments()
    {
        BridgeModule.Register("greet", (string name, int times) => string.Concat(Enumerable.Repeat($"hi {name} ", times)).Trim());
        using var gil = Py.Gil();
        using var result = Py.Eval("__import__('_pympibridge').greet('ann', times=2)");
        Assert.That(result.As<string>(), Is.EqualTo("hi ann hi ann"));
    }

    [Test]
    public void AttributeMarkedStaticMethods_AreExportedInSnakeCase()
    {
        Assert.That(BridgeModule.RegisterAll(typeof(ExportedFunctions)), Is.EqualTo(2));
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import numpy as np, _pympibridge
            a = np.arange(4.0)
            _pympibridge.scale_in_place(a, 3.0)
            total = _pympibridge.add_numbers(1) + _pympibridge.add_numbers(1, b=2)
            doc = _pympibridge.scale_in_place.__doc__
            """);
        Assert.That(globals["a"].As<double[]>(), Is.EqualTo(new[] { 0.0, 3, 6, 9 }), "the numpy array was modified in place (no copy)");
        Assert.That(globals["total"].As<long>(), Is.EqualTo(14));
        Assert.That(globals["doc"].As<string>(), Is.EqualTo("multiplies a float64 array in place"));
    }

    [Test]
    public void RawFunction_ReturningACachedObject_LeavesItUsableAfterEveryCall()
    {
        using var gil = Py.Gil();
        using var cached = PyObject.From(new List<object?> { 1, 2, 3 });
        BridgeModule.Register("cached_list", _ => cached);
        using var globals = PythonFixture.Run("""
            import _pympibridge
            first = _pympibridge.cached_list()
            second = _pympibridge.cached_list()
            same = first is second
            """);
        Assert.That(globals["same"].As<bool>(), Is.True);
        Assert.That(cached.As<List<long>>(), Is.EqualTo(new long[] { 1, 2, 3 }), "the C# reference is still valid");
    }

    private static readonly PyObject s_cachedForTyped = WithGil(() => PyObject.From("kept"));

    private static T WithGil<T>(Func<T> f)
    {
        using var gil = Py.Gil();
        return f();
    }

    [Test]
    public void TypedFunction_ReturningACachedPyObject_LeavesItUsableAfterEveryCall()
    {
        BridgeModule.Register("cached_typed", new Func<PyObject>(() => s_cachedForTyped));
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import _pympibridge
            texts = [_pympibridge.cached_typed() for _ in range(3)]
            """);
        Assert.That(globals["texts"].As<string[]>(), Is.EqualTo(new[] { "kept", "kept", "kept" }));
        Assert.That(s_cachedForTyped.As<string>(), Is.EqualTo("kept"), "the C# reference is still valid");
    }

    [Test]
    public void RawFunction_ReceivesNumpyArrayAsSpanWithoutCopying()
    {
        BridgeModule.Register("step", args =>
        {
            using var u = args.GetBuffer<double>(0);
            double dt = args.Get<double>(1);
            var span = u.Span;
            for (int i = 0; i < span.Length; i++) span[i] += dt;
            return PyObject.From(span.Length);
        });
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import numpy as np, _pympibridge
            u = np.zeros(5)
            n = _pympibridge.step(u, 0.5)
            """);
        Assert.That(globals["n"].As<int>(), Is.EqualTo(5));
        Assert.That(globals["u"].As<double[]>(), Is.EqualTo(Enumerable.Repeat(0.5, 5)));
    }

    [Test]
    public void CSharpExceptions_BecomeMappedPythonExceptionsCarryingTypeAndMessage()
    {
        BridgeModule.Register("fail", (string kind) => kind switch
        {
            "argument" => throw new ArgumentException("width must be positive"),
            "key" => throw new KeyNotFoundException("no such rank"),
            "state" => throw new InvalidOperationException("not ready"),
            _ => 0,
        });
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import _pympibridge
            results = {}
            for kind in ('argument', 'key', 'state'):
                try:
                    _pympibridge.fail(kind)
                except Exception as e:
                    results[kind] = (type(e).__name__, str(e), e.dotnet_type, ''.join(getattr(e, '__notes__', [])))
            """);
        var results = globals["results"].As<Dictionary<string, object?[]>>();
        Assert.That(results["argument"][0], Is.EqualTo("ValueError"));
        Assert.That(results["argument"][1], Is.EqualTo("System.ArgumentException: width must be positive"));
        Assert.That(results["argument"][2], Is.EqualTo("System.ArgumentException"));
        Assert.That(results["argument"][3], Does.Contain("at ").And.Contain("BridgeModuleTests"), ".NET stack trace kept as a note");
        Assert.That(results["key"][0], Is.EqualTo("KeyError"));
        Assert.That(results["state"][0], Is.EqualTo("RuntimeError"));
    }

    [Test]
    public void BadArguments_RaiseTypeErrorNamingTheFunction()
    {
        BridgeModule.Register("needs_int", (int n) => n);
        using var gil = Py.Gil();
        var e = Assert.Throws<PythonException>(() => Py.Exec("import _pympibridge; _pympibridge.needs_int('x')"))!;
        Assert.That(e.PythonTypeName, Is.EqualTo("TypeError"));
        Assert.That(e.PythonMessage, Does.Contain("needs_int()").And.Contain("Python str").And.Contain("System.Int32"));
        var e2 = Assert.Throws<PythonException>(() => Py.Exec("import _pympibridge; _pympibridge.needs_int()"))!;
        Assert.That(e2.PythonTypeName, Is.EqualTo("TypeError"));
        Assert.That(e2.PythonMessage, Does.Contain("missing required argument 'n'"));
        var e3 = Assert.Throws<PythonException>(() => Py.Exec("import _pympibridge; _pympibridge.needs_int(1, m=2)"))!;
        Assert.That(e3.PythonMessage, Does.Contain("unexpected keyword argument 'm'"));
    }

    [Test]
    public void PythonExceptionThroughACSharpFrame_KeepsItsOriginalType()
    {
        BridgeModule.Register("call_back", args =>
        {
            using var callback = args.GetObject(0);
            return callback.Call();
        });
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import _pympibridge
            class Custom(Exception): pass
            def boom(): raise Custom('from python')
            try:
                _pympibridge.call_back(boom)
            except Custom as e:
                caught = str(e)
            """);
        Assert.That(globals["caught"].As<string>(), Is.EqualTo("from python"));
    }

    [Test]
    public void ModuleIsImportableAndListedInSysModules()
    {
        using var gil = Py.Gil();
        using var present = Py.Eval("'_pympibridge' in __import__('sys').modules");
        Assert.That(present.As<bool>(), Is.True);
        using var module = BridgeModule.Module;
        Assert.That(module.GetAttr("__name__").As<string>(), Is.EqualTo("_pympibridge"));
    }
}

/// <summary>Typed exports are compiled once per signature: calls allocate nothing and views of arguments behave as before.</summary>
public class CompiledExportTests
{
    [Test]
    public void TypedCall_WithBufferAndPrimitiveArguments_AllocatesNothingPerCall()
    {
        BridgeModule.Register("alloc_probe", new Func<PyBuffer<double>, double, long, bool, double>(
            static (a, f, n, flag) => flag ? a.ReadOnlySpan[0] * f + n : 0));
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import numpy as np, _pympibridge
            arr = np.ones(16)
            def run(n):
                total = 0.0
                for _ in range(n):
                    total += _pympibridge.alloc_probe(arr, 2.0, 3, True)
                return total
            run(2000)  # warm up: compile, tier up, fill the argument view kept for reuse
            """);
        using var run = globals["run"];
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var total = run.Call(PyObject.From(20_000));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(total.As<double>(), Is.EqualTo(20_000 * 5.0));
        // Reflection Invoke allocated an object[] of arguments, boxes and a buffer view per call (~1 KB).
        Assert.That(allocated, Is.LessThan(20_000), $"{allocated} bytes for 20,000 calls");
    }

    [Test]
    public void BufferArgument_ReusedBetweenCalls_SeesEachCallsArray()
    {
        BridgeModule.Register("first_and_length", new Func<PyBuffer<double>, double>(static a => a.ReadOnlySpan[0] * 1000 + a.Length));
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import numpy as np, _pympibridge
            results = [_pympibridge.first_and_length(np.full(n, float(n))) for n in (1, 2, 3)]
            strided = _pympibridge.first_and_length(np.arange(10.0)[::-3] if False else np.arange(6.0)[::2].copy())
            ro = np.full(4, 7.0); ro.setflags(write=False)
            readonly = _pympibridge.first_and_length(ro)
            """);
        Assert.That(globals["results"].As<double[]>(), Is.EqualTo(new[] { 1001.0, 2002, 3003 }));
        Assert.That(globals["strided"].As<double>(), Is.EqualTo(3.0));
        Assert.That(globals["readonly"].As<double>(), Is.EqualTo(7004.0));
    }

    [Test]
    public void BufferArgument_OfWrongDtypeOrNonContiguous_StillExplains()
    {
        BridgeModule.Register("sum_span", new Func<PyBuffer<double>, double>(static a => a.ReadOnlySpan.ToArray().Sum()));
        using var gil = Py.Gil();
        var wrong = Assert.Throws<PythonException>(() => Py.Exec("import numpy as np, _pympibridge\n_pympibridge.sum_span(np.zeros(3, dtype=np.int32))"));
        Assert.That(wrong!.Message, Does.Contain("argument 'a' (#1)").And.Contain("float64").And.Contain("int32"));
        var strided = Assert.Throws<PythonException>(() => Py.Exec("import numpy as np, _pympibridge\n_pympibridge.sum_span(np.arange(6.0)[::2])"));
        Assert.That(strided!.Message, Does.Contain("not C-contiguous"));
        using var ok = Py.Eval("__import__('_pympibridge').sum_span(__import__('numpy').arange(4.0))");
        Assert.That(ok.As<double>(), Is.EqualTo(6.0));
    }

    [Test]
    public unsafe void BufferArgumentMemory_PinnedDuringTheCall_StaysValidAfterPythonDropsTheArray()
    {
        Memory<double> kept = default;
        System.Buffers.MemoryHandle pin = default;
        BridgeModule.Register("keep_memory", new Action<PyBuffer<double>>(a =>
        {
            kept = a.Memory;
            pin = kept.Pin(); // as a nonblocking request started in the call does
        }));
        using var gil = Py.Gil();
        Py.Exec("import numpy as np, _pympibridge, gc\n_pympibridge.keep_memory(np.full(1000, 2.5))\ngc.collect()\nfiller = [np.zeros(1000) for _ in range(100)]");
        double[] seen;
        unsafe { seen = new ReadOnlySpan<double>(pin.Pointer, 1000).ToArray(); } // what MPI reads through the pinned pointer
        Assert.That(seen, Is.All.EqualTo(2.5), "the array outlived Python's last reference while pinned");
        pin.Dispose(); // the request completes: the view is released, the array freed
        BridgeModule.Register("sum_after", new Func<PyBuffer<double>, double>(static a => a.ReadOnlySpan[0]));
        using var next = Py.Eval("__import__('_pympibridge').sum_after(__import__('numpy').full(3, 4.0))");
        Assert.That(next.As<double>(), Is.EqualTo(4.0));
    }
}
