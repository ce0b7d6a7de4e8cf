using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

/// <summary>
/// One interpreter for the whole test process (never finalized by a test: Python cannot be re-initialized).
/// </summary>
[SetUpFixture]
public sealed class PythonFixture
{
    [OneTimeSetUp]
    public void StartPython() => PythonEngine.Initialize();

    /// <summary>Runs <paramref name="code"/> in fresh globals and returns them (caller holds the GIL).</summary>
    public static PyObject Run(string code)
    {
        var globals = Py.NewGlobals();
        Py.Exec(code, globals);
        return globals;
    }
}
