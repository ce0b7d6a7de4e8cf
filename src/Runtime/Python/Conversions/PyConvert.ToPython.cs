using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// Conversions between .NET values and Python objects. .NET → Python: null→None, bool, integers (any size)→int,
/// floating point→float, decimal→decimal.Decimal, Complex→complex, string/char→str, byte[]→bytes, tuples→tuple,
/// IDictionary→dict, ISet→set, other sequences→list, PyObject→itself. Caller holds the GIL.
/// </summary>
internal static unsafe partial class PyConvert
{
    /// <summary>A new reference for <paramref name="value"/>; throws <see cref="InvalidCastException"/> for unsupported types.</summary>
    public static nint ToPython(object? value)
    {
        switch (value)
        {
            case null: return NewRef(CPython.Py_None);
            case PyObject o: { nint h = o.Handle; CPython.Py_IncRef(h); return h; }
            case bool b: return NewRef(b ? CPython.Py_True : CPython.Py_False);
            case int i: return CPython.PyLong_FromLongLong(i);
            case long l: return CPython.PyLong_FromLongLong(l);
            case double d: return CPython.PyFloat_FromDouble(d);
            case string s: return FromString(s);
            case float f: return CPython.PyFloat_FromDouble(f);
            case sbyte sb: return CPython.PyLong_FromLongLong(sb);
            case byte ub: return CPython.PyLong_FromLongLong(ub);
            case short sh: return CPython.PyLong_FromLongLong(sh);
            case ushort us: return CPython.PyLong_FromLongLong(us);
            case uint ui: return CPython.PyLong_FromLongLong(ui);
            case ulong ul: return CPython.PyLong_FromUnsignedLongLong(ul);
            case nint ni: return CPython.PyLong_FromLongLong(ni);
            case nuint nu: return CPython.PyLong_FromUnsignedLongLong(nu);
            case BigInteger big: return FromBigInteger(big);
            case Half h: return CPython.PyFloat_FromDouble((double)h);
            case decimal m: return FromDecimal(m);
            case Complex c: return CPython.PyComplex_FromDoubles(c.Real, c.Imaginary);
            case Complex32 c: return CPython.PyComplex_FromDoubles(c.Real, c.Imaginary);
            case char ch: return FromString(ch.ToString());
            case byte[] bytes: return FromBytes(bytes);
            case Enum e: return Convert.GetTypeCode(e) is TypeCode.UInt64
                ? CPython.PyLong_FromUnsignedLongLong(Convert.ToUInt64(e, CultureInfo.InvariantCulture))
                : CPython.PyLong_FromLongLong(Convert.ToInt64(e, CultureInfo.InvariantCulture));
            // Lists of numbers without boxing each element (a List<double> of a million costs ~10 ms, not ~250).
            case double[] ds: return FromNumbers<double>(ds);
            case List<double> dl: return FromNumbers<double>(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(dl));
            case long[] ls: return FromNumbers<long>(ls);
            case List<long> ll: return FromNumbers<long>(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ll));
            case int[] ints: return FromNumbers<int>(ints);
            case List<int> il: return FromNumbers<int>(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(il));
            case ITuple tuple: return FromTuple(tuple);
            case IDictionary dictionary: return FromDictionary(dictionary);
            case Array { Rank: > 1 } array:
                throw new InvalidCastException(
                    $"A {array.Rank}-dimensional .NET array ({array.GetType()}) has no natural Python form; " +
                    "share it as a numpy array without copying with PyArray.From(array).");
            case IEnumerable sequence when IsSet(sequence.GetType()): return FromSet(sequence);
            case IEnumerable sequence: return FromSequence(sequence);
            case var _ when PyConverters.TryToPython(value, out nint custom): return custom;
            default:
                throw new InvalidCastException(
                    $"Cannot convert .NET {value.GetType()} to Python. Supported: null, bool, integers, BigInteger, floating point, " +
                    "decimal, Complex, string, char, byte[], tuples, dictionaries, sets, sequences, PyObject; arrays as numpy via PyArray.From.");
        }
    }

    private static nint NewRef(nint o) { CPython.Py_IncRef(o); return o; }

    private static nint Check(nint o) => o != 0 ? o : throw PythonException.FetchCurrent();

    /// <summary>str from UTF-16, without an intermediate UTF-8 copy.</summary>
    public static nint FromString(string s)
    {
        int byteOrder = -1; // little endian, and no BOM is written
        fixed (char* chars = s)
            return Check(CPython.PyUnicode_DecodeUTF16((byte*)chars, (nint)s.Length * 2, null, &byteOrder));
    }

    /// <summary>An interned str for attribute names (Python then compares them by pointer).</summary>
    public static PyObject InternedString(string s)
    {
        int count = Encoding.UTF8.GetByteCount(s);
        Span<byte> utf8 = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(s, utf8);
        utf8[count] = 0;
        fixed (byte* p = utf8) return PyObject.Steal(CPython.PyUnicode_InternFromString(p));
    }

    public static string ToManagedString(nint str)
    {
        nint size;
        byte* utf8 = CPython.PyUnicode_AsUTF8AndSize(str, &size);
        if (utf8 == null) throw PythonException.FetchCurrent();
        return Encoding.UTF8.GetString(utf8, checked((int)size));
    }

    private static nint FromBytes(byte[] bytes)
    {
        fixed (byte* p = bytes) return Check(CPython.PyBytes_FromStringAndSize(p, bytes.Length));
    }

    /// <summary>Exact conversion through a hexadecimal literal (no size limit, no precision loss).</summary>
    public static nint FromBigInteger(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) return CPython.PyLong_FromLongLong((long)value);
        string hex = (value.Sign < 0 ? "-" : "") + BigInteger.Abs(value).ToString("x", CultureInfo.InvariantCulture);
        byte[] ascii = Encoding.ASCII.GetBytes(hex + "\0");
        fixed (byte* p = ascii) return Check(CPython.PyLong_FromString(p, null, 16));
    }

    private static nint FromDecimal(decimal value)
    {
        using var module = Py.Import("decimal");
        using var type = module.GetAttr("Decimal");
        using var result = type.Call(value.ToString(CultureInfo.InvariantCulture));
        return result.StealHandle();
    }

    private static nint FromTuple(ITuple tuple)
    {
        nint result = Check(CPython.PyTuple_New(tuple.Length));
        try
        {
            for (int i = 0; i < tuple.Length; i++) PyObject.Check(CPython.PyTuple_SetItem(result, i, ToPython(tuple[i])));
            return result;
        }
        catch { CPython.Py_DecRef(result); throw; }
    }

    private static nint FromDictionary(IDictionary dictionary)
    {
        nint result = Check(CPython.PyDict_New());
        try
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                nint key = ToPython(entry.Key), value = 0;
                try
                {
                    value = ToPython(entry.Value);
                    PyObject.Check(CPython.PyDict_SetItem(result, key, value));
                }
                finally
                {
                    CPython.Py_DecRef(key);
                    if (value != 0) CPython.Py_DecRef(value);
                }
            }
            return result;
        }
        catch { CPython.Py_DecRef(result); throw; }
    }

    private static bool IsSet(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
            && (d == typeof(ISet<>) || d == typeof(IReadOnlySet<>)));

    private static nint FromSet(IEnumerable set)
    {
        nint result = Check(CPython.PySet_New(0));
        try
        {
            foreach (object? item in set)
            {
                nint element = ToPython(item);
                try { PyObject.Check(CPython.PySet_Add(result, element)); }
                finally { CPython.Py_DecRef(element); }
            }
            return result;
        }
        catch { CPython.Py_DecRef(result); throw; }
    }

    /// <summary>A list of float (double) or int (long, int) objects, one C call per element.</summary>
    private static nint FromNumbers<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        nint list = Check(CPython.PyList_New(values.Length));
        for (int i = 0; i < values.Length; i++)
        {
            T v = values[i];
            nint item = typeof(T) == typeof(double) ? CPython.PyFloat_FromDouble(Unsafe.As<T, double>(ref v))
                : typeof(T) == typeof(long) ? CPython.PyLong_FromLongLong(Unsafe.As<T, long>(ref v))
                : CPython.PyLong_FromLongLong(Unsafe.As<T, int>(ref v));
            if (item == 0)
            {
                CPython.Py_DecRef(list);
                throw PythonException.FetchCurrent();
            }
            CPython.PyList_SetItem(list, i, item); // steals item; cannot fail for an index inside a fresh list
        }
        return list;
    }

    private static nint FromSequence(IEnumerable sequence)
    {
        if (sequence is ICollection collection)
        {
            nint list = Check(CPython.PyList_New(collection.Count));
            try
            {
                int i = 0;
                foreach (object? item in collection)
                {
                    if (i >= collection.Count) throw new InvalidOperationException("Collection grew during conversion.");
                    PyObject.Check(CPython.PyList_SetItem(list, i++, ToPython(item)));
                }
                return list;
            }
            catch { CPython.Py_DecRef(list); throw; }
        }
        nint result = Check(CPython.PyList_New(0));
        try
        {
            foreach (object? item in sequence)
            {
                nint element = ToPython(item);
                try { PyObject.Check(CPython.PyList_Append(result, element)); }
                finally { CPython.Py_DecRef(element); }
            }
            return result;
        }
        catch { CPython.Py_DecRef(result); throw; }
    }
}
