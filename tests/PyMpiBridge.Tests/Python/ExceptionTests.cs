using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class ExceptionTests
{
    [Test]
    public void PythonError_BecomesPythonExceptionWithMultiFrameTraceback()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            def outer(): return middle()
            def middle(): return inner()
            def inner(): raise ValueError('bad value 42')
            """);
        using var outer = globals["outer"];
        var e = Assert.Throws<PythonException>(() => outer.Call())!;
        Assert.That(e.PythonTypeName, Is.EqualTo("ValueError"));
        Assert.That(e.PythonMessage, Is.EqualTo("bad value 42"));
        Assert.That(e.PythonTraceback, Does.Contain("Traceback (most recent call last)"));
        Assert.That(e.PythonTraceback, Does.Contain("in outer").And.Contain("in middle").And.Contain("in inner"));
        Assert.That(e.PythonTraceback.IndexOf("in outer"), Is.LessThan(e.PythonTraceback.IndexOf("in inner")));
        Assert.That(e.Message, Does.Contain("ValueError: bad value 42").And.Contain("in inner"));
    }

    [Test]
    public void ModuleQualifiedExceptionType_IsNamed()
    {
        using var gil = Py.Gil();
        var e = Assert.Throws<PythonException>(() => Py.Exec("import numpy\nnumpy.linalg.inv(numpy.zeros((2, 2)))"))!;
        Assert.That(e.PythonTypeName, Is.EqualTo("numpy.linalg.LinAlgError"));
    }

    [Test]
    public void SyntaxError_IsReported()
    {
        using var gil = Py.Gil();
        var e = Assert.Throws<PythonException>(() => Py.Exec("def broken(:\n  pass"))!;
        Assert.That(e.PythonTypeName, Is.EqualTo("SyntaxError"));
    }

    [Test]
    public void ErrorIsCleared_SoTheNextCallSucceeds()
    {
        using var gil = Py.Gil();
        Assert.Throws<PythonException>(() => Py.Eval("1/0"));
        using var ok = Py.Eval("1 + 1");
        Assert.That(ok.As<int>(), Is.EqualTo(2));
    }
}
