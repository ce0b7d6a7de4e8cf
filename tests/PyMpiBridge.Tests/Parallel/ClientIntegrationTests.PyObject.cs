using PyMpiBridge.Parallel;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Python function objects of this process's own interpreter, shipped to engines as the Python client ships them.</summary>
public sealed partial class ClientIntegrationTests
{
    [Test, CancelAfter(120_000)]
    public async Task PyObjectFunctionsTravelByValueOrByReference()
    {
        PythonEngine.Initialize();
        PythonFunction closure, lambda, sqrt;
        using (Py.Gil())
        {
            using var globals = Py.NewGlobals();
            Py.Exec("import math\nimport numpy as np\ndef make(scale):\n    def scaled(x):\n        return np.asarray(x) * scale + offset\n" +
                    "    return scaled\nf = make(2)\nadd = lambda a, b: a + b\n", globals);
            using var f = globals.GetItem("f");
            using var add = globals.GetItem("add");
            using var math = Py.Import("math");
            using var root = math.GetAttr("sqrt");
            closure = PythonFunction.From(f);  // captures scale by value; finds offset in the engine's namespace
            lambda = PythonFunction.From(add);
            sqrt = PythonFunction.From(root);  // importable on the engine: travels by name
            using var five = PyObject.From(5L);
            var e = Assert.Throws<ArgumentException>(() => PythonFunction.From(five));
            Assert.That(e!.Message, Does.Contain("5 is not callable"));
        }
        Assert.That(closure.Name, Is.EqualTo("make.<locals>.scaled"));

        // the closure's globals are the engine's namespace (as in ipyparallel): np and offset must be there, whatever
        // ran before this test
        await Client[..].ExecuteAsync("import numpy as np");
        await Client[..].PushAsync("offset", 10);
        double[][] scaled = await Client[..].ApplyAsync<double[]>(closure, new[] { 1.0, 2.0 });
        Assert.That(scaled, Is.All.EqualTo(new[] { 12.0, 14.0 }));
        Assert.That(await Client.LoadBalancedView().ApplyAsync<long>(lambda, 2, 3), Is.EqualTo(5L));
        Assert.That(await Client[..].MapAsync<long>(lambda, new[] { 1, 2, 3 }, new[] { 10, 20, 30 }), Is.EqualTo(new[] { 11L, 22L, 33L }));
        Assert.That(await Client[0].ApplyAsync<double>(sqrt, 16.0), Is.EqualTo(new[] { 4.0 }));
    }
}
