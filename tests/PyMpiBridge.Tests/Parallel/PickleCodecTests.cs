using System.Numerics;
using System.Text;
using PyMpiBridge.Parallel;
using PyMpiBridge.Parallel.Pickling;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>The C# pickle codec against real Python pickles: what C# writes Python loads, what Python writes C# reads.</summary>
[TestFixture, CancelAfter(120_000)]
public sealed class PickleCodecTests
{
    private static string PythonRepr(object? value)
    {
        var parts = PickleWriter.Dumps(value).Select(p => p.Span.ToArray()).ToList();
        byte[] output = PythonProcess.Run("""
            import numpy as np
            parts = read_frame()
            value = pickle.loads(parts[0], buffers=parts[1:])
            def canon(v):
                if isinstance(v, np.ndarray):
                    return f"ndarray({v.dtype.str},{v.shape},{v.flags.writeable},{v.tolist()})"
                if isinstance(v, dict):
                    return "{" + ", ".join(f"{canon(k)}: {canon(x)}" for k, x in v.items()) + "}"
                if isinstance(v, list):
                    return "[" + ", ".join(canon(x) for x in v) + "]"
                if isinstance(v, tuple):
                    return "(" + ", ".join(canon(x) for x in v) + ",)"
                return f"{type(v).__name__}:{v!r}"
            sys.stdout.write(canon(value))
            """, PythonProcess.Frame(parts));
        return Encoding.UTF8.GetString(output);
    }

    [Test]
    public void ScalarsAndContainersLoadInPython()
    {
        Assert.That(PythonRepr(null), Is.EqualTo("NoneType:None"));
        Assert.That(PythonRepr(true), Is.EqualTo("bool:True"));
        Assert.That(PythonRepr(-5), Is.EqualTo("int:-5"));
        Assert.That(PythonRepr(70000), Is.EqualTo("int:70000"));
        Assert.That(PythonRepr(long.MinValue), Is.EqualTo($"int:{long.MinValue}"));
        Assert.That(PythonRepr(ulong.MaxValue), Is.EqualTo($"int:{ulong.MaxValue}"));
        Assert.That(PythonRepr(BigInteger.Pow(2, 100)), Is.EqualTo($"int:{BigInteger.Pow(2, 100)}"));
        Assert.That(PythonRepr(2.5), Is.EqualTo("float:2.5"));
        Assert.That(PythonRepr("héllo"), Is.EqualTo("str:'héllo'"));
        Assert.That(PythonRepr(new string('x', 300)).Length, Is.EqualTo(306));
        Assert.That(PythonRepr(new byte[] { 1, 2 }), Is.EqualTo("bytes:b'\\x01\\x02'"));
        Assert.That(PythonRepr(new List<object?> { 1, "a", null }), Is.EqualTo("[int:1, str:'a', NoneType:None]"));
        Assert.That(PythonRepr((1, "b")), Is.EqualTo("(int:1, str:'b',)"));
        Assert.That(PythonRepr(new Dictionary<string, object?> { ["k"] = 1.5, ["l"] = new List<int> { 2 } }),
            Is.EqualTo("{str:'k': float:1.5, str:'l': [int:2]}"));
    }

    [Test]
    public void ArraysArriveAsWritableNumpyArrays()
    {
        Assert.That(PythonRepr(new[] { 0.0, 1.5, 2.0 }), Is.EqualTo("ndarray(<f8,(3,),True,[0.0, 1.5, 2.0])"));
        Assert.That(PythonRepr(new[,] { { 1, 2, 3 }, { 4, 5, 6 } }), Is.EqualTo("ndarray(<i4,(2, 3),True,[[1, 2, 3], [4, 5, 6]])"));
        Assert.That(PythonRepr(new[] { true, false }), Is.EqualTo("ndarray(|b1,(2,),True,[True, False])"));
        Assert.That(PythonRepr(new float[0]), Is.EqualTo("ndarray(<f4,(0,),True,[])"));
        Assert.That(PythonRepr(new long[] { -1, long.MaxValue }), Is.EqualTo($"ndarray(<i8,(2,),True,[-1, {long.MaxValue}])"));
    }

    [Test]
    public void ArrayPickleMatchesNumpysOwnOpcodes()
    {
        // numpy's reduction for protocol 5, memo opcodes removed: the same opcodes and arguments
        var ours = PickleWriter.Dumps(new[] { 1.0, 2.0, 3.0 })[0].Span.ToArray();
        byte[] output = PythonProcess.Run("""
            import pickletools, numpy as np
            def ops(data):
                return [(op.name, arg) for op, arg, pos in pickletools.genops(data)
                        if op.name not in ("MEMOIZE", "FRAME", "MARK", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3")]
            mine = bytes(read_frame()[0])
            theirs = pickle.dumps(np.arange(1.0, 4.0), protocol=5, buffer_callback=lambda b: None)
            sys.stdout.write("same" if ops(mine) == ops(theirs) else f"{ops(mine)}\n{ops(theirs)}")
            """, PythonProcess.Frame([ours]));
        Assert.That(Encoding.UTF8.GetString(output), Is.EqualTo("same"));
    }

    private static object? FromPython(string expression)
    {
        byte[] output = PythonProcess.Run($"""
            import numpy as np, datetime
            read_frame
            buffers = []
            data = pickle.dumps({expression}, protocol=5, buffer_callback=buffers.append)
            write_frame([data] + [b.raw() for b in buffers])
            """, PythonProcess.Frame([]));
        var parts = PythonProcess.ParseFrame(output);
        return PickleReader.Loads(parts[0], parts[1..]);
    }

    [Test]
    public void PythonValuesAreReadInCSharp()
    {
        Assert.That(FromPython("None"), Is.Null);
        Assert.That(FromPython("[True, 1, -70000, 2**70, 2.5, 'é', b'ab', (1, 2)]"), Is.EqualTo(new List<object?>
            { true, 1L, -70000L, BigInteger.Pow(2, 70), 2.5, "é", new byte[] { 97, 98 }, new object?[] { 1L, 2L } }));
        var d = (Dictionary<object, object?>)FromPython("{'a': 1, 'b': [None]}")!;
        Assert.That(d["a"], Is.EqualTo(1L));
        Assert.That(d["b"], Is.EqualTo(new List<object?> { null }));
        Assert.That(FromPython("{1, 2}"), Is.EquivalentTo(new object[] { 1L, 2L }));
        Assert.That(FromPython("complex(1, 2)"), Is.EqualTo(new Complex(1, 2)));
        Assert.That(FromPython("np.float64(2.5)"), Is.EqualTo(2.5));
        Assert.That(FromPython("np.int32(7)"), Is.EqualTo(7));
        Assert.That(FromPython("datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc)"),
            Is.EqualTo(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(6780)));
        Assert.That(FromPython("datetime.timedelta(1, 2, 3)"), Is.EqualTo(new TimeSpan(1, 0, 0, 2).Add(TimeSpan.FromMicroseconds(3))));
    }

    [Test]
    public void NumpyArraysBecomeDotNetArrays()
    {
        Assert.That(FromPython("np.arange(4.0)"), Is.EqualTo(new[] { 0.0, 1.0, 2.0, 3.0 }));
        Assert.That(FromPython("np.arange(6, dtype=np.int32).reshape(2, 3)"), Is.EqualTo(new[,] { { 0, 1, 2 }, { 3, 4, 5 } }));
        Assert.That(FromPython("np.arange(6.0).reshape(2, 3).T"), Is.EqualTo(new[,] { { 0.0, 3.0 }, { 1.0, 4.0 }, { 2.0, 5.0 } }));
        Assert.That(FromPython("np.arange(6.0)[::2]"), Is.EqualTo(new[] { 0.0, 2.0, 4.0 }));
        Assert.That(FromPython("np.array([True, False])"), Is.EqualTo(new[] { true, false }));
        Assert.That(FromPython("np.zeros(0, dtype=np.float32)"), Is.EqualTo(Array.Empty<float>()));
        Assert.That(FromPython("np.arange(3, dtype=np.uint16)"), Is.EqualTo(new ushort[] { 0, 1, 2 }));
    }

    [Test]
    public void UnknownThingsAreRefusedByName()
    {
        var e = Assert.Throws<UnsupportedPickleException>(() => FromPython("np.array(['a'])"));
        Assert.That(e!.Message, Does.Contain("<U1").Or.Contain("U1"));
        e = Assert.Throws<UnsupportedPickleException>(() => FromPython("__import__('fractions').Fraction(1, 3)"));
        Assert.That(e!.Message, Does.Contain("fractions.Fraction"));
        e = Assert.Throws<UnsupportedPickleException>(() => PickleReader.Loads([0x80, 5, (byte)'P', (byte)'.']));
        Assert.That(e!.Message, Does.Contain("opcode").And.Contain("0x50"));
    }
}
