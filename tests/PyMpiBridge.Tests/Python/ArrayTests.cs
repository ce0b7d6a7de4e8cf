using System.Numerics;
using System.Runtime.CompilerServices;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class ArrayTests
{
    private static PyObject Numpy(string expression, PyObject? globals = null)
    {
        using var g = globals is null ? PythonFixture.Run("import numpy as np") : null;
        return Py.Eval(expression, globals ?? g);
    }

    [Test]
    public void SharedArray_IsTheSameMemoryOnBothSides()
    {
        using var gil = Py.Gil();
        var data = new double[] { 1, 2, 3, 4 };
        using var globals = PythonFixture.Run("import numpy as np");
        globals["a"] = PyArray.From(data);
        Py.Exec("a[0] = 100.0; a *= 2", globals);
        Assert.That(data, Is.EqualTo(new[] { 200.0, 4, 6, 8 }), "writes from numpy are visible in .NET");
        data[3] = -1;
        using var last = Py.Eval("float(a[3])", globals);
        Assert.That(last.As<double>(), Is.EqualTo(-1.0), "writes from .NET are visible in numpy");
        using var owns = Py.Eval("a.flags.owndata", globals);
        Assert.That(owns.As<bool>(), Is.False, "numpy does not own (did not copy) the data");
        globals.DelItem("a");
    }

    [Test]
    public void EveryNumericElementType_MapsToItsNumpyDtype()
    {
        using var gil = Py.Gil();
        void Check<T>(T[] array, string dtype) where T : unmanaged
        {
            using var a = PyArray.From(array);
            using var d = a.GetAttr("dtype");
            Assert.That(d.ToString(), Is.EqualTo(dtype), typeof(T).Name);
            using var back = a.GetBuffer<T>();
            Assert.That(back.ReadOnlySpan.ToArray(), Is.EqualTo(array), typeof(T).Name);
        }
        Check(new sbyte[] { -1, 2 }, "int8");
        Check(new byte[] { 1, 255 }, "uint8");
        Check(new short[] { -3, 4 }, "int16");
        Check(new ushort[] { 5, 65535 }, "uint16");
        Check(new int[] { -7, 8 }, "int32");
        Check(new uint[] { 9, uint.MaxValue }, "uint32");
        Check(new long[] { long.MinValue, 10 }, "int64");
        Check(new ulong[] { ulong.MaxValue, 11 }, "uint64");
        Check(new Half[] { (Half)1.5, (Half)(-2) }, "float16");
        Check(new float[] { 1.25f, -2 }, "float32");
        Check(new double[] { Math.E, -2 }, "float64");
        Check(new Complex32[] { new(1, 2), new(-3, 4) }, "complex64");
        Check(new Complex[] { new(1, 2), new(-3, 4) }, "complex128");
        Check(new bool[] { true, false }, "bool");
    }

    [Test]
    public void MultiDimensionalArrays_KeepShapeAndStrides()
    {
        using var gil = Py.Gil();
        var matrix = new int[2, 3] { { 1, 2, 3 }, { 4, 5, 6 } };
        using var m = PyArray.From(matrix);
        Assert.That(m.GetAttr("shape").As<long[]>(), Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(m.GetAttr("strides").As<long[]>(), Is.EqualTo(new long[] { 12, 4 }));
        Assert.That(m[PyObject.From((1, 2))].As<int>(), Is.EqualTo(6));

        var cube = new float[2, 3, 4];
        cube[1, 2, 3] = 7.5f;
        using var c = PyArray.From(cube);
        Assert.That(c.GetAttr("shape").As<long[]>(), Is.EqualTo(new long[] { 2, 3, 4 }));
        Assert.That(c[PyObject.From((1, 2, 3))].As<float>(), Is.EqualTo(7.5f));
    }

    [Test]
    public void MemorySliceWithShape_AndReadOnlyMemory()
    {
        using var gil = Py.Gil();
        var data = Enumerable.Range(0, 10).Select(i => (double)i).ToArray();
        using var view = PyArray.From(data.AsMemory(2, 6), 2, 3);
        Assert.That(view.Repr(), Is.EqualTo("array([[2., 3., 4.],\n       [5., 6., 7.]])"));
        using var readOnly = PyArray.FromReadOnly<double>(data.AsMemory(0, 4));
        Assert.That(readOnly.GetAttr("flags").GetAttr("writeable").As<bool>(), Is.False);
        using var globals = PythonFixture.Run("");
        globals["r"] = readOnly.CloneRef();
        var e = Assert.Throws<PythonException>(() => Py.Exec("r[0] = 1", globals))!;
        Assert.That(e.PythonTypeName, Is.EqualTo("ValueError"));
        Assert.Throws<ArgumentException>(() => PyArray.From(data.AsMemory(), 3, 4));
    }

    [Test]
    public void NativeBuffer_WithStrides_IsSharedAndOutlivesItsDisposal()
    {
        using var gil = Py.Gil();
        PyObject transposed;
        using (var buffer = new NativeBuffer<double>(6))
        {
            for (int i = 0; i < 6; i++) buffer.Span[i] = i;
            transposed = PyArray.From(buffer, [3, 2], [8, 24]); // the transpose of a 2x3 C array
            Assert.Throws<ArgumentOutOfRangeException>(() => PyArray.From(buffer, [3, 3], [8, 24]));
        } // the .NET owner is gone; numpy still holds the memory
        using (transposed)
        {
            Assert.That(transposed.Repr(), Is.EqualTo("array([[0., 3.],\n       [1., 4.],\n       [2., 5.]])"));
            using var sum = transposed.CallMethod("sum");
            Assert.That(sum.As<double>(), Is.EqualTo(15.0));
        }
    }

    [Test]
    public void GarbageCollection_WhilePythonHoldsTheView_LeavesDataIntact()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("import numpy as np");
        globals["a"] = ShareFreshArray(1_000_000);
        for (int i = 0; i < 3; i++)
        {
            _ = new byte[10_000_000];
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        using var ok = Py.Eval("bool((a == np.arange(1_000_000, dtype=np.float64)).all())", globals);
        Assert.That(ok.As<bool>(), Is.True);
        globals.DelItem("a");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PyObject ShareFreshArray(int n) => PyArray.From(Enumerable.Range(0, n).Select(i => (double)i).ToArray());

    [Test]
    public void Pin_IsReleasedWhenTheLastPythonReferenceGoes()
    {
        using var gil = Py.Gil();
        Collect(); // earlier tests' forgotten arrays
        long before = PyArray.LiveExports;
        using var globals = PythonFixture.Run("import numpy as np");
        var weak = ShareIntoGlobals(globals);
        using (var view = Py.Eval("a[2:]", globals)) { } // a derived view also keeps it
        Py.Exec("b = a[::2]", globals);
        globals.DelItem("a");
        Collect();
        Assert.That(weak.IsAlive, Is.True, "the slice b still uses the memory");
        Assert.That(PyArray.LiveExports, Is.EqualTo(before + 1));
        globals.DelItem("b");
        Collect();
        Assert.That(PyArray.LiveExports, Is.EqualTo(before), "exporter released its pin");
        Assert.That(weak.IsAlive, Is.False, "the .NET array is collectable again");
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (Py.AllowThreads()) { } // drain the references the finalizers queued
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ShareIntoGlobals(PyObject globals)
    {
        var data = new double[100];
        using var shared = PyArray.From(data);
        globals["a"] = shared.CloneRef();
        return new WeakReference(data);
    }

    [Test]
    public void NumpyToSpan_IsZeroCopyAndWritable()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("import numpy as np\na = np.arange(12.0).reshape(3, 4)");
        using (var buffer = globals["a"].GetBuffer<double>())
        {
            Assert.That(buffer.Shape.ToArray(), Is.EqualTo(new long[] { 3, 4 }));
            Assert.That(buffer.Strides.ToArray(), Is.EqualTo(new long[] { 32, 8 }));
            Assert.That(buffer.DType, Is.EqualTo("float64"));
            Assert.That(buffer.IsReadOnly, Is.False);
            Assert.That(buffer.Length, Is.EqualTo(12));
            buffer.Span[11] = -5;
        }
        using var last = Py.Eval("a[2, 3]", globals);
        Assert.That(last.As<double>(), Is.EqualTo(-5.0));
    }

    [Test]
    public void WrongDtype_SaysWhatWasExpectedAndWhatCame()
    {
        using var gil = Py.Gil();
        using var ints = Py.Eval("__import__('numpy').arange(3, dtype='int32')");
        var e = Assert.Throws<InvalidCastException>(() => ints.GetBuffer<double>())!;
        Assert.That(e.Message, Does.Contain("expected float64 (Double), got int32"));
    }

    [Test]
    public void NonContiguousArray_RefusesASpanButCopies()
    {
        using var gil = Py.Gil();
        using var strided = Py.Eval("__import__('numpy').arange(10.0)[::3]");
        using var buffer = strided.GetBuffer<double>();
        Assert.That(buffer.IsContiguous, Is.False);
        var e = Assert.Throws<InvalidOperationException>(() => _ = buffer.Span.Length)!;
        Assert.That(e.Message, Does.Contain("not C-contiguous").And.Contain("ToArray()").And.Contain("ascontiguousarray"));
        Assert.That(buffer.ToArray(), Is.EqualTo(new[] { 0.0, 3, 6, 9 }));
    }

    [Test]
    public void ReadOnlyBuffer_GivesReadOnlySpanOnly()
    {
        using var gil = Py.Gil();
        using var bytes = Py.Eval("b'abc'");
        using var buffer = bytes.GetBuffer<byte>();
        Assert.That(buffer.IsReadOnly, Is.True);
        Assert.That(buffer.ReadOnlySpan.ToArray(), Is.EqualTo("abc"u8.ToArray()));
        Assert.Throws<InvalidOperationException>(() => _ = buffer.Span.Length);
        var e = Assert.Throws<InvalidOperationException>(() => bytes.GetBuffer<byte>(writable: true))!;
        Assert.That(e.Message, Does.Contain("read-only"));
    }

    [Test]
    public void WritableViewOfReadOnlyNumpyArray_IsRefusedWithWhatToDo()
    {
        using var gil = Py.Gil();
        using var array = Py.Eval("__import__('numpy').arange(4.0)");
        array.GetAttr("flags").SetAttr("writeable", false);
        var e = Assert.Throws<InvalidOperationException>(() => array.GetBuffer<double>(writable: true))!;
        Assert.That(e.Message, Does.Contain("numpy.ndarray is read-only").And.Contain("writable: false"));
        using var view = array.GetBuffer<double>();
        Assert.That(view.ReadOnlySpan.ToArray(), Is.EqualTo(new[] { 0.0, 1, 2, 3 }));
        Assert.That(view.IsReadOnly, Is.True);
    }

    [Test]
    public void BufferView_HoldsOneReferenceToItsArray_UntilDisposed()
    {
        using var gil = Py.Gil();
        using var array = Py.Eval("__import__('numpy').full(1000, 3.0)");
        using var sys = Py.Import("sys");
        long RefCount() { using var n = sys.CallMethod("getrefcount", array); return n.As<long>(); }
        long before = RefCount();
        var view = array.GetBuffer<double>();
        long during = RefCount();
        view.Dispose();
        Assert.That((during, RefCount()), Is.EqualTo((before + 1, before)));
    }

    [Test]
    public void BufferView_CanBeUsedWithoutTheGil()
    {
        using var gil = Py.Gil();
        using var array = Py.Eval("__import__('numpy').zeros(1000)");
        using var buffer = array.GetBuffer<double>();
        using (Py.AllowThreads()) buffer.Span.Fill(2.0); // long C# work with the GIL released
        using var sum = array.CallMethod("sum");
        Assert.That(sum.As<double>(), Is.EqualTo(2000.0));
    }
}
