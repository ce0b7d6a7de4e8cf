using System.Numerics;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Python;

public class ConversionTests
{
    private static T RoundTrip<T>(object? value)
    {
        using var o = PyObject.From(value);
        return o.As<T>();
    }

    private static string PythonRepr(object? value)
    {
        using var o = PyObject.From(value);
        return o.Repr();
    }

    [Test]
    public void Scalars_RoundTripWithTheirNaturalPythonTypes()
    {
        using var gil = Py.Gil();
        Assert.That(PythonRepr(null), Is.EqualTo("None"));
        Assert.That(PythonRepr(true), Is.EqualTo("True"));
        Assert.That(PythonRepr(42), Is.EqualTo("42"));
        Assert.That(PythonRepr(2.5), Is.EqualTo("2.5"));
        Assert.That(PythonRepr(new Complex(1, -2)), Is.EqualTo("(1-2j)"));
        Assert.That(PythonRepr("héllo ✓ 𝄞"), Is.EqualTo("'héllo ✓ 𝄞'"));
        Assert.That(PythonRepr(new byte[] { 1, 255 }), Is.EqualTo("b'\\x01\\xff'"));
        Assert.That(RoundTrip<bool>(true), Is.True);
        Assert.That(RoundTrip<int>(-7), Is.EqualTo(-7));
        Assert.That(RoundTrip<long>(long.MinValue), Is.EqualTo(long.MinValue));
        Assert.That(RoundTrip<ulong>(ulong.MaxValue), Is.EqualTo(ulong.MaxValue));
        Assert.That(RoundTrip<double>(Math.PI), Is.EqualTo(Math.PI));
        Assert.That(RoundTrip<float>(1.5f), Is.EqualTo(1.5f));
        Assert.That(RoundTrip<Complex>(new Complex(3, 4)), Is.EqualTo(new Complex(3, 4)));
        Assert.That(RoundTrip<string>("héllo ✓ 𝄞"), Is.EqualTo("héllo ✓ 𝄞"));
        Assert.That(RoundTrip<byte[]>(new byte[] { 0, 1, 2 }), Is.EqualTo(new byte[] { 0, 1, 2 }));
        Assert.That(RoundTrip<decimal>(12.345m), Is.EqualTo(12.345m));
        Assert.That(RoundTrip<object>(null), Is.Null);
        Assert.That(RoundTrip<int?>(null), Is.Null);
        Assert.That(RoundTrip<DayOfWeek>(DayOfWeek.Friday), Is.EqualTo(DayOfWeek.Friday));
    }

    [Test]
    public void BigIntegers_CrossExactlyInBothDirections()
    {
        using var gil = Py.Gil();
        var big = BigInteger.Pow(2, 200) + 12345;
        using var fromPython = Py.Eval("2**200 + 12345");
        Assert.That(fromPython.As<BigInteger>(), Is.EqualTo(big));
        Assert.That(fromPython.As<object>(), Is.EqualTo(big));
        using var fromDotNet = PyObject.From(-big);
        Assert.That(fromDotNet.Repr(), Is.EqualTo((-big).ToString()));
        Assert.That(RoundTrip<BigInteger>(new BigInteger(-5)), Is.EqualTo(new BigInteger(-5)));
    }

    [Test]
    public void Containers_ConvertBothWays()
    {
        using var gil = Py.Gil();
        Assert.That(PythonRepr(new List<object?> { 1, "a", null }), Is.EqualTo("[1, 'a', None]"));
        Assert.That(PythonRepr((1, "x", 2.5)), Is.EqualTo("(1, 'x', 2.5)"));
        Assert.That(PythonRepr(new Dictionary<string, int> { ["a"] = 1 }), Is.EqualTo("{'a': 1}"));
        Assert.That(PythonRepr(new HashSet<int> { 3 }), Is.EqualTo("{3}"));
        Assert.That(PythonRepr(new[] { 1, 2, 3 }), Is.EqualTo("[1, 2, 3]"));

        using var tuple = Py.Eval("(1, 'two', [3.0])");
        var items = tuple.As<object?[]>();
        Assert.That(items[0], Is.EqualTo(1L));
        Assert.That(items[1], Is.EqualTo("two"));
        Assert.That(items[2], Is.EqualTo(new List<object?> { 3.0 }));
        using var dict = Py.Eval("{'a': 1, 'b': 2}");
        Assert.That(dict.As<Dictionary<string, int>>(), Is.EqualTo(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }));
        using var set = Py.Eval("frozenset({1, 2})");
        Assert.That(set.As<HashSet<long>>(), Is.EquivalentTo(new[] { 1L, 2L }));
        using var list = Py.Eval("[1, 2, 3]");
        Assert.That(list.As<int[]>(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(list.As<IReadOnlyList<double>>(), Is.EqualTo(new[] { 1.0, 2.0, 3.0 }));
    }

    [Test]
    public void ListsOfNumbers_RoundTripWithoutLosingValuesOrTypes()
    {
        using var gil = Py.Gil();
        var doubles = new List<double> { 1.5, -0.0, double.MaxValue, double.NaN };
        using var fromList = PyObject.From(doubles);
        Assert.That(fromList.TypeName, Is.EqualTo("list"));
        Assert.That(fromList.Repr(), Is.EqualTo("[1.5, -0.0, 1.7976931348623157e+308, nan]"));
        Assert.That(fromList.As<double[]>(), Is.EqualTo(doubles.ToArray()));
        Assert.That(fromList.As<List<double>>(), Is.EqualTo(doubles));
        using var longs = PyObject.From(new long[] { long.MinValue, 7 });
        Assert.That(longs.Repr(), Is.EqualTo("[-9223372036854775808, 7]"));
        Assert.That(longs.As<long[]>(), Is.EqualTo(new[] { long.MinValue, 7L }));
        using var ints = PyObject.From(new List<int> { 1, 2 });
        Assert.That(ints.As<List<int>>(), Is.EqualTo(new[] { 1, 2 }));
        using var tuple = Py.Eval("(1, 2.5)");
        Assert.That(tuple.As<double[]>(), Is.EqualTo(new[] { 1.0, 2.5 }), "ints in a tuple widen to double");
    }

    [Test]
    public void ListWithANonNumber_ToDoubleArray_NamesTheElementType()
    {
        using var gil = Py.Gil();
        using var list = Py.Eval("[1.0, 'two']");
        var e = Assert.Throws<InvalidCastException>(() => list.As<double[]>())!;
        Assert.That(e.Message, Does.Contain("str").And.Contain("Double"));
        using var big = Py.Eval("[2**40]");
        Assert.Throws<OverflowException>(() => big.As<int[]>());
    }

    [Test]
    public void NumpyScalarsAndArrays_ConvertThroughIndexAndBuffer()
    {
        using var gil = Py.Gil();
        using var scalar = Py.Eval("__import__('numpy').int32(7)");
        Assert.That(scalar.As<long>(), Is.EqualTo(7));
        using var array = Py.Eval("__import__('numpy').arange(6.0).reshape(2, 3)[:, ::2]");
        Assert.That(array.As<double[]>(), Is.EqualTo(new[] { 0.0, 2.0, 3.0, 5.0 }), "strided numpy array copied in C order");
    }

    [Test]
    public void IntegerOverflow_ThrowsOverflowExceptionWithTheValue()
    {
        using var gil = Py.Gil();
        using var big = Py.Eval("2**40");
        var e = Assert.Throws<OverflowException>(() => big.As<int>());
        Assert.That(e!.Message, Does.Contain("1099511627776").And.Contain("System.Int32"));
        using var huge = Py.Eval("2**70");
        var e2 = Assert.Throws<OverflowException>(() => huge.As<long>());
        Assert.That(e2!.Message, Does.Contain("1180591620717411303424"));
        using var negative = Py.Eval("-1");
        Assert.Throws<OverflowException>(() => negative.As<uint>());
    }

    [Test]
    public void BadConversions_NameThePythonAndDotNetTypes()
    {
        using var gil = Py.Gil();
        using var text = Py.Eval("'abc'");
        var e = Assert.Throws<InvalidCastException>(() => text.As<int>());
        Assert.That(e!.Message, Does.Contain("Python str").And.Contain("System.Int32"));
        using var fraction = Py.Eval("1.5");
        var e2 = Assert.Throws<InvalidCastException>(() => fraction.As<long>());
        Assert.That(e2!.Message, Does.Contain("Python float").And.Contain("fraction"));
        using var none = Py.Eval("None");
        Assert.That(Assert.Throws<InvalidCastException>(() => none.As<double>())!.Message, Does.Contain("None"));
        using var number = Py.Eval("3");
        Assert.That(Assert.Throws<InvalidCastException>(() => number.As<string>())!.Message, Does.Contain("Python int").And.Contain("System.String"));
        Assert.That(Assert.Throws<InvalidCastException>(() => number.As<bool>())!.Message, Does.Contain("Boolean"));
        Assert.That(Assert.Throws<InvalidCastException>(() => PyObject.From(new object()))!.Message, Does.Contain("System.Object"));
        Assert.That(Assert.Throws<InvalidCastException>(() => PyObject.From(new int[2, 2]))!.Message, Does.Contain("PyArray.From"));
        Assert.That(number.TryAs<string>(out _), Is.False);
    }

    [Test]
    public void ObjectProtocol_AttributesItemsLengthIterationAndCalls()
    {
        using var gil = Py.Gil();
        using var globals = PythonFixture.Run("""
            class Box:
                def __init__(self, v): self.v = v
                def scaled(self, k, offset=0): return self.v * k + offset
            data = {'a': [10, 20, 30]}
            """);
        using var box = globals["Box"].Call(5);
        Assert.That(box.HasAttr("v"), Is.True);
        Assert.That(box.GetAttr("v").As<int>(), Is.EqualTo(5));
        box.SetAttr("v", 6);
        using var scaled = box.CallMethod("scaled", [2], [new("offset", 1)]);
        Assert.That(scaled.As<int>(), Is.EqualTo(13));
        Assert.That(box.GetAttrOrNull("missing"), Is.Null);
        Assert.Throws<PythonException>(() => box.GetAttr("missing"));

        using var list = globals["data"]["a"];
        Assert.That(list.Length, Is.EqualTo(3));
        Assert.That(list[-1].As<int>(), Is.EqualTo(30));
        list[0] = PyObject.From(11);
        Assert.That(list.Select(item => { using (item) return item.As<int>(); }), Is.EqualTo(new[] { 11, 20, 30 }));
        Assert.That(list.ToString(), Is.EqualTo("[11, 20, 30]"));
        Assert.That(globals["data"].Repr(), Is.EqualTo("{'a': [11, 20, 30]}"));
    }

    [Test]
    public void ExecAndEval_ShareGlobals()
    {
        using var gil = Py.Gil();
        using var globals = Py.NewGlobals();
        Py.Exec("x = 20\ndef twice(v):\n    return 2 * v", globals);
        using var result = Py.Eval("twice(x) + 2", globals);
        Assert.That(result.As<int>(), Is.EqualTo(42));
    }
}
