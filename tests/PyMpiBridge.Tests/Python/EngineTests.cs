using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class EngineTests
{
    [Test]
    public void Initialize_ChoosesSystemPythonWithNumpyAndSaysWhy()
    {
        var interpreter = PythonEngine.Initialize();
        Assert.That(interpreter.Executable, Is.EqualTo("/usr/bin/python3"));
        Assert.That(interpreter.NumpyVersion, Is.Not.Null);
        Assert.That(interpreter.Reason, Does.Contain("numpy"));
        Assert.That(interpreter.LibraryPath, Does.Contain("libpython3"));
        Assert.That(PythonEngine.Interpreter, Is.SameAs(interpreter), "Initialize is idempotent");
    }

    [Test]
    public void AddCoEmbedding_ClaimingToHaveStartedAnInterpreterWeStarted_IsRefusedAndNotRegistered()
    {
        PythonEngine.Initialize();
        bool called = false;
        var e = Assert.Throws<InvalidOperationException>(() => PythonEngine.AddCoEmbedding("other", () => called = true, startedPython: true));
        Assert.That(e!.Message, Does.Contain("other cannot have started Python"));
        Assert.That(() => PythonEngine.AddCoEmbedding(" ", () => { }, startedPython: false), Throws.ArgumentException);
        Assert.That(called, Is.False);
    }

    [Test]
    public void Initialize_RecordsRejectedCandidatesBeforeTheChosenOne()
    {
        var interpreter = PythonEngine.Initialize();
        Assert.That(interpreter.Candidates.Last().RejectedBecause, Is.Null);
        Assert.That(interpreter.Candidates.Last().Path, Is.EqualTo(interpreter.Executable));
    }

    [Test]
    public void EmbeddedSysExecutableAndPath_MatchTheChosenInterpreter()
    {
        using var gil = Py.Gil();
        using var sys = Py.Import("sys");
        Assert.That(sys.GetAttr("executable").As<string>(), Is.EqualTo("/usr/bin/python3"));
        var path = sys.GetAttr("path").As<List<string>>();
        Assert.That(path, Does.Contain("/usr/lib/python3/dist-packages"));
        using var numpy = Py.Import("numpy");
        Assert.That(numpy.GetAttr("__version__").As<string>(), Is.EqualTo(PythonEngine.Interpreter!.NumpyVersion));
    }

    [Test]
    public void DynamicAccess_ReadsLikePython()
    {
        using var gil = Py.Gil();
        dynamic np = Py.Import("numpy");
        long sum = np.arange(10).sum();
        Assert.That(sum, Is.EqualTo(45));
        double mean = np.linspace(0.0, 1.0, num: 5).mean();
        Assert.That(mean, Is.EqualTo(0.5));
        dynamic a = np.arange(6).reshape(2, 3);
        long element = a[1, 2];
        Assert.That(element, Is.EqualTo(5));
        dynamic x = PyObject.From(7);
        long y = x * 6;
        Assert.That(y, Is.EqualTo(42));
    }
}
