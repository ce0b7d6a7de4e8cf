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
    /// <remarks>Null when a C call failed (the Python error is set): callers move it on, which throws that error.</remarks>
    public static NewReference ToPython(object? value)
    {
        switch (value)
        {
            case null: return NewReference.FromBorrowed(CPython.Py_None);
            case PyObject o: return NewReference.FromBorrowed(o.Reference);
            case bool b: return NewReference.FromBorrowed(b ? CPython.Py_True : CPython.Py_False);
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
            default:
                if (PyConverters.TryToPython(value, out var custom)) return custom;
                throw new InvalidCastException(
                    $"Cannot convert .NET {value.GetType()} to Python. Supported: null, bool, integers, BigInteger, floating point, " +
                    "decimal, Complex, string, char, byte[], tuples, dictionaries, sets, sequences, PyObject; arrays as numpy via PyArray.From.");
        }
    }

    /// <summary>str from UTF-16, without an intermediate UTF-8 copy.</summary>
    public static NewReference FromString(string s)
    {
        int byteOrder = -1; // little endian, and no BOM is written
        fixed (char* chars = s)
            return CPython.PyUnicode_DecodeUTF16((byte*)chars, (nint)s.Length * 2, null, &byteOrder);
    }

    /// <summary>An interned str for attribute names (Python then compares them by pointer).</summary>
    public static PyObject InternedString(string s)
    {
        int count = Encoding.UTF8.GetByteCount(s);
        Span<byte> utf8 = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(s, utf8);
        utf8[count] = 0;
        fixed (byte* p = utf8) return CPython.PyUnicode_InternFromString(p).MoveToPyObject();
    }

    public static string ToManagedString(BorrowedReference str)
    {
        nint size;
        byte* utf8 = CPython.PyUnicode_AsUTF8AndSize(str, &size);
        if (utf8 == null) throw PythonException.FetchCurrent();
        return Encoding.UTF8.GetString(utf8, checked((int)size));
    }

    private static NewReference FromBytes(byte[] bytes)
    {
        fixed (byte* p = bytes) return CPython.PyBytes_FromStringAndSize(p, bytes.Length);
    }

    /// <summary>Exact conversion through a hexadecimal literal (no size limit, no precision loss).</summary>
    public static NewReference FromBigInteger(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) return CPython.PyLong_FromLongLong((long)value);
        string hex = (value.Sign < 0 ? "-" : "") + BigInteger.Abs(value).ToString("x", CultureInfo.InvariantCulture);
        byte[] ascii = Encoding.ASCII.GetBytes(hex + "\0");
        fixed (byte* p = ascii) return CPython.PyLong_FromString(p, null, 16);
    }

    private static NewReference FromDecimal(decimal value)
    {
        using var module = Py.Import("decimal");
        using var type = module.GetAttr("Decimal");
        using var result = type.Call(value.ToString(CultureInfo.InvariantCulture));
        return NewReference.FromPyObject(result);
    }

    private static NewReference FromTuple(ITuple tuple)
    {
        using var result = CPython.PyTuple_New(tuple.Length);
        result.ThrowIfNull();
        for (int i = 0; i < tuple.Length; i++) PyObject.Check(CPython.PyTuple_SetItem(result.Borrow(), i, ToPython(tuple[i]).Steal()));
        return result.Move();
    }

    private static NewReference FromDictionary(IDictionary dictionary)
    {
        using var result = CPython.PyDict_New();
        result.ThrowIfNull();
        foreach (DictionaryEntry entry in dictionary)
        {
            using var key = ToPython(entry.Key);
            key.ThrowIfNull();
            using var value = ToPython(entry.Value);
            value.ThrowIfNull();
            PyObject.Check(CPython.PyDict_SetItem(result.Borrow(), key.Borrow(), value.Borrow()));
        }
        return result.Move();
    }

    private static bool IsSet(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
            && (d == typeof(ISet<>) || d == typeof(IReadOnlySet<>)));

    private static NewReference FromSet(IEnumerable set) => AddEach(CPython.PySet_New(BorrowedReference.Null), set, CPython.PySet_Add);

    /// <summary>A list of float (double) or int (long, int) objects, one C call per element.</summary>
    private static NewReference FromNumbers<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        using var list = CPython.PyList_New(values.Length);
        list.ThrowIfNull();
        for (int i = 0; i < values.Length; i++)
        {
            T v = values[i];
            var item = typeof(T) == typeof(double) ? CPython.PyFloat_FromDouble(Unsafe.As<T, double>(ref v))
                : typeof(T) == typeof(long) ? CPython.PyLong_FromLongLong(Unsafe.As<T, long>(ref v))
                : CPython.PyLong_FromLongLong(Unsafe.As<T, int>(ref v));
            // Steal throws the pending error when item is null (the list, disposed, releases what it holds);
            // PyList_SetItem cannot fail for an index inside a fresh list.
            CPython.PyList_SetItem(list.Borrow(), i, item.Steal());
        }
        return list.Move();
    }

    private static NewReference FromSequence(IEnumerable sequence)
    {
        if (sequence is ICollection collection)
        {
            using var list = CPython.PyList_New(collection.Count);
            list.ThrowIfNull();
            int i = 0;
            foreach (object? item in collection)
            {
                if (i >= collection.Count) throw new InvalidOperationException("Collection grew during conversion.");
                PyObject.Check(CPython.PyList_SetItem(list.Borrow(), i++, ToPython(item).Steal()));
            }
            return list.Move();
        }
        return AddEach(CPython.PyList_New(0), sequence, CPython.PyList_Append);
    }

    /// <summary>Adds each item, converted, to <paramref name="container"/> with <paramref name="add"/> (which borrows it).</summary>
    private static NewReference AddEach(NewReference container, IEnumerable items, delegate* unmanaged<BorrowedReference, BorrowedReference, int> add)
    {
        using var result = container.Move();
        foreach (object? item in items)
        {
            using var element = ToPython(item);
            element.ThrowIfNull();
            PyObject.Check(add(result.Borrow(), element.Borrow()));
        }
        return result.Move();
    }
}
