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
