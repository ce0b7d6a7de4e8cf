using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class GilTests
{
    [Test]
    public void ObjectUseWithoutTheGil_ThrowsAClearError()
    {
        PyObject list;
        using (Py.Gil()) list = Py.Eval("[1, 2]");
        var e = Assert.Throws<InvalidOperationException>(() => _ = list.Length)!;
        Assert.That(e.Message, Does.Contain("does not hold the Python GIL").And.Contain("Py.Gil()"));
        list.Dispose(); // allowed without the GIL: queued
    }

    [Test]
    public void GilScope_IsReentrant()
    {
        using var outer = Py.Gil();
        using (var inner = Py.Gil())
        {
            using var x = Py.Eval("1");
            Assert.That(Py.IsGilHeld, Is.True);
        }
        Assert.That(Py.IsGilHeld, Is.True, "the outer scope still holds it");
    }

    [Test]
    public void GilScopes_AreRefStructs_SoNoneCanBeHeldAcrossAnAwaitOrMovedToAnotherThread()
    {
        // A ref struct cannot be a local of an async method, be captured by a lambda or be boxed: holding the GIL
        // across `await` (which deadlocks the process) or disposing it on another thread no longer compiles.
        Assert.That(typeof(GilScope).IsByRefLike, Is.True, "GilScope");
        Assert.That(typeof(AllowThreadsScope).IsByRefLike, Is.True, "AllowThreadsScope");
    }

    [Test]
    public void DisposingOuterBeforeInner_Throws()
    {
        var outer = Py.Gil();
        var inner = Py.Gil();
        Exception? error = null;
        try { outer.Dispose(); }
        catch (InvalidOperationException e) { error = e; }
        Assert.That(error, Is.Not.Null, "disposing the outer scope first throws");
        inner.Dispose();
        outer.Dispose();
        Assert.That(Py.IsGilHeld, Is.False);
    }

    [Test]
    public void AllowThreads_WithoutTheGil_Throws()
        => Assert.Throws<InvalidOperationException>(() => Py.AllowThreads());

    [Test]
    public void ReleaseIfHeld_IsANoOpWithoutTheGil_AndReleasesWithIt()
    {
        using (var none = Py.ReleaseIfHeld()) Assert.That(none.ReleasedGil, Is.False);
        using var gil = Py.Gil();
        using (var released = Py.ReleaseIfHeld())
        {
            Assert.That(released.ReleasedGil, Is.True);
            Assert.That(Py.IsGilHeld, Is.False);
        }
        Assert.That(Py.IsGilHeld, Is.True);
    }

    [Test]
    public void AllowThreads_LetsPythonThreadsRunWhileCSharpWorks()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            import threading, time
            count = 0
            stop = False
            def spin():
                global count
                while not stop:
                    count += 1
                    time.sleep(0.0005)
            t = threading.Thread(target=spin, daemon=True)
            t.start()
            """);
        try
        {
            long before = globals["count"].As<long>();
            using (Py.AllowThreads()) Thread.Sleep(300);
            long after = globals["count"].As<long>();
            Assert.That(after - before, Is.GreaterThan(10), "the Python thread ran while C# released the GIL");
        }
        finally
        {
            globals["stop"] = PyObject.From(true);
            using (Py.AllowThreads()) Thread.Sleep(10);
            using var join = globals["t"].CallMethod("join", 5.0);
        }
    }

    [Test]
    public void GilTakenByAnotherThreadInsideACallback_DoesNotDeadlockWhenTheCallbackReleases()
    {
        // pythonnet #964/#1438: Python calls C#, C# waits for a task that needs the GIL.
        BridgeModule.Register("wait_for_worker", args =>
        {
            using (Py.AllowThreads())
            {
                var worker = Task.Run(() =>
                {
                    using var gil = Py.Gil();
                    using var r = Py.Eval("6 * 7");
                    return r.As<int>();
                });
                if (!worker.Wait(TimeSpan.FromSeconds(20))) throw new TimeoutException("worker never got the GIL");
                return null;
            }
        });
        using var gil = Py.Gil();
        Py.Exec("import _pympibridge\n_pympibridge.wait_for_worker()");
    }

    [Test]
    public void ForgottenReference_IsQueuedByTheFinalizerAndReleasedAtTheNextGilTransition()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("import weakref\nclass Tracked: pass");
        CreateTrackedAndForgetIt(globals);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (var stillAlive = Py.Eval("ref() is not None", globals))
            Assert.That(stillAlive.As<bool>(), Is.True, "the finalizer only queued the decref (no Python call without the GIL)");
        Assert.That(PendingReleases.Count, Is.GreaterThan(0));
        using (Py.AllowThreads()) { } // leaving the GIL drains the queue
        using var gone = Py.Eval("ref() is None", globals);
        Assert.That(gone.As<bool>(), Is.True);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void CreateTrackedAndForgetIt(PyObject globals)
    {
        var obj = globals["Tracked"].Call();          // owned by nobody who disposes it
        using var weakref = globals["weakref"].GetAttr("ref");
        globals["ref"] = weakref.Call(obj);
    }
}
