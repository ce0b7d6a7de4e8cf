using System.Runtime.CompilerServices;
using System.Globalization;
using System.Numerics;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

// Python → .NET. Errors name both sides: "Cannot convert Python str to System.Int32: ...";
// integers that do not fit throw OverflowException with the value.
internal static unsafe partial class PyConvert
{
    private static bool IsExact(BorrowedReference o, BorrowedReference type) => CPython.Py_TYPE(o) == type;

    private static bool IsInstance(BorrowedReference o, BorrowedReference type)
    {
        if (CPython.Py_TYPE(o) == type) return true;
        int r = CPython.PyObject_IsInstance(o, type);
        if (r < 0) throw PythonException.FetchCurrent();
        return r == 1;
    }

    public static bool IsInt(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_LONG_SUBCLASS);
    public static bool IsStr(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_UNICODE_SUBCLASS);
    public static bool IsBytes(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_BYTES_SUBCLASS);
    public static bool IsList(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_LIST_SUBCLASS);
    public static bool IsTuple(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_TUPLE_SUBCLASS);
    public static bool IsDict(BorrowedReference o) => CPython.HasTypeFlag(o, PyConst.Py_TPFLAGS_DICT_SUBCLASS);

    /// <summary>The natural .NET value: None→null, bool, int→long (BigInteger when larger), float→double, complex→Complex,
    /// str→string, bytes→byte[], list→List&lt;object?&gt;, tuple→object?[], dict→Dictionary, set→HashSet, types with a registered natural form (<see cref="PyConverters.RegisterNatural"/>) as registered, else PyObject.</summary>
    public static object? ToNatural(BorrowedReference o)
    {
        if (o == CPython.Py_None) return null;
        var type = CPython.Py_TYPE(o);
        if (type == CPython.PyBool_Type) return o == CPython.Py_True;
        if (IsInt(o))
        {
            long small = ToInteger(o, out BigInteger? big);
            return big is { } b ? b : (object)small;
        }
        if (type == CPython.PyFloat_Type || IsInstance(o, CPython.PyFloat_Type)) return ToDouble(o, typeof(double));
        if (IsStr(o)) return ToManagedString(o);
        if (type == CPython.PyComplex_Type || IsInstance(o, CPython.PyComplex_Type)) return ToComplex(o, typeof(Complex));
        if (IsBytes(o)) return ToBytes(o);
        if (IsTuple(o)) return ToObjectArray(o, typeof(object));
        if (IsList(o)) return ToList(o, typeof(object));
        if (IsDict(o)) return ToDictionary(o, typeof(object), typeof(object));
        if (IsInstance(o, CPython.PySet_Type) || IsInstance(o, CPython.PyFrozenSet_Type)) return ToHashSet(o, typeof(object));
        if (PyConverters.TryToNatural(o, out object? registered)) return registered;
        return NewReference.FromBorrowed(o).MoveToPyObject();
    }

    /// <summary>Converts to <paramref name="target"/>; throws InvalidCastException / OverflowException naming both types.</summary>
    public static object? ToManaged(BorrowedReference o, Type target)
    {
        if (target == typeof(object)) return ToNatural(o);
        if (target == typeof(PyObject)) return NewReference.FromBorrowed(o).MoveToPyObject();
        if (Nullable.GetUnderlyingType(target) is { } inner)
            return o == CPython.Py_None ? null : ToManaged(o, inner);
        if (o == CPython.Py_None)
            return target.IsValueType ? throw Mismatch(o, target, "None has no value of this type; use a nullable type") : null;
        if (target.IsEnum)
            return Enum.ToObject(target, ToManaged(o, Enum.GetUnderlyingType(target))!);
        if (!target.IsPrimitive && PyConverters.TryToManaged(o, target, out object? custom)) return custom;

        switch (Type.GetTypeCode(target))
        {
            case TypeCode.Boolean: return ToBoolean(o);
            case TypeCode.SByte: return (sbyte)ToIntegerInRange(o, target, sbyte.MinValue, sbyte.MaxValue);
            case TypeCode.Byte: return (byte)ToIntegerInRange(o, target, byte.MinValue, byte.MaxValue);
            case TypeCode.Int16: return (short)ToIntegerInRange(o, target, short.MinValue, short.MaxValue);
            case TypeCode.UInt16: return (ushort)ToIntegerInRange(o, target, ushort.MinValue, ushort.MaxValue);
            case TypeCode.Int32: return (int)ToIntegerInRange(o, target, int.MinValue, int.MaxValue);
            case TypeCode.UInt32: return (uint)ToIntegerInRange(o, target, uint.MinValue, uint.MaxValue);
            case TypeCode.Int64: return ToInt64(o, target);
            case TypeCode.UInt64: return ToUInt64(o, target);
            case TypeCode.Double: return ToDouble(o, target);
            case TypeCode.Single: return (float)ToDouble(o, target);
            case TypeCode.Decimal: return ToDecimal(o, target);
            case TypeCode.String: return IsStr(o) ? ToManagedString(o) : throw Mismatch(o, target, "only str converts to string; use ToString() for str(obj)");
            case TypeCode.Char:
                string s = IsStr(o) ? ToManagedString(o) : throw Mismatch(o, target, "expected a str of length 1");
                return s.Length == 1 ? s[0] : throw Mismatch(o, target, $"expected a str of length 1, got length {s.Length}");
        }
        if (target == typeof(nint)) return (nint)ToInt64(o, target);
        if (target == typeof(nuint)) return (nuint)ToUInt64(o, target);
        if (target == typeof(Half)) return (Half)ToDouble(o, target);
        if (target == typeof(BigInteger)) { long l = ToInteger(o, out var big, target); return big ?? l; }
        if (target == typeof(Complex)) return ToComplex(o, target);
        if (target == typeof(Complex32)) return (Complex32)ToComplex(o, target);
        if (target == typeof(byte[])) return ToBytes(o);
        if (target.IsArray && target.GetArrayRank() == 1) return ToArray(o, target.GetElementType()!);

        if (target.IsGenericType)
        {
            Type definition = target.GetGenericTypeDefinition();
            Type[] args = target.GetGenericArguments();
            if (definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(ICollection<>) ||
                definition == typeof(IEnumerable<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>))
                return ToList(o, args[0]);
            if (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
                return ToDictionary(o, args[0], args[1]);
            if (definition == typeof(HashSet<>) || definition == typeof(ISet<>) || definition == typeof(IReadOnlySet<>))
                return ToHashSet(o, args[0]);
        }
        throw Mismatch(o, target, "no conversion is defined for this .NET type");
    }

    public static InvalidCastException Mismatch(BorrowedReference o, Type target, string detail) =>
        new($"Cannot convert Python {PythonException.QualifiedTypeName(CPython.Py_TYPE(o))} to {target}: {detail}.");

    private static bool ToBoolean(BorrowedReference o)
    {
        if (o == CPython.Py_True) return true;
        if (o == CPython.Py_False) return false;
        if (PythonException.QualifiedTypeName(CPython.Py_TYPE(o)) == "numpy.bool_")
        {
            int r = CPython.PyObject_IsTrue(o);
            if (r < 0) throw PythonException.FetchCurrent();
            return r == 1;
        }
        throw Mismatch(o, typeof(bool), "only bool (or numpy.bool_) converts to Boolean; use IsTrue() for truthiness");
    }

    /// <summary>An int (or anything with __index__ except float/str) as long, or as BigInteger when larger.</summary>
    private static long ToInteger(BorrowedReference o, out BigInteger? big, Type? target = null)
    {
        if (IsInt(o)) return ToExactInteger(o, out big);
        target ??= typeof(long);
        if (CPython.Py_TYPE(o) == CPython.PyFloat_Type || IsInstance(o, CPython.PyFloat_Type))
            throw Mismatch(o, target, "a float would lose its fraction; convert to double, or round in Python");
        if (CPython.PyIndex_Check(o) == 0) throw Mismatch(o, target, "it is not an integer (has no __index__)");
        using var index = CPython.PyNumber_Index(o);
        index.ThrowIfNull();
        return ToExactInteger(index.Borrow(), out big);
    }

    /// <summary>A Python int as long, or as BigInteger when larger.</summary>
    private static long ToExactInteger(BorrowedReference integer, out BigInteger? big)
    {
        big = null;
        int overflow;
        long result = CPython.PyLong_AsLongLongAndOverflow(integer, &overflow);
        if (overflow == 0)
        {
            if (result == -1 && !CPython.PyErr_Occurred().IsNull) throw PythonException.FetchCurrent();
            return result;
        }
        big = ToBigInteger(integer);
        return 0;
    }

    private static BigInteger ToBigInteger(BorrowedReference integer)
    {
        using var hex = CPython.PyNumber_ToBase(integer, 16); // '0x1f' or '-0x1f'
        hex.ThrowIfNull();
        string text = ToManagedString(hex.Borrow());
        bool negative = text.StartsWith('-');
        var magnitude = BigInteger.Parse("0" + text[(negative ? 3 : 2)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return negative ? -magnitude : magnitude;
    }

    private static long ToIntegerInRange(BorrowedReference o, Type target, long min, long max)
    {
        long value = ToInteger(o, out var big, target);
        if (big is not null || value < min || value > max)
            throw new OverflowException($"Python int {(object?)big ?? value} does not fit in {target} (range {min} to {max}).");
        return value;
    }

    private static long ToInt64(BorrowedReference o, Type target)
    {
        long value = ToInteger(o, out var big, target);
        if (big is not null) throw new OverflowException($"Python int {big} does not fit in {target} (range {long.MinValue} to {long.MaxValue}); convert to BigInteger.");
        return value;
    }

    private static ulong ToUInt64(BorrowedReference o, Type target)
    {
        long value = ToInteger(o, out var big, target);
        if (big is null) return value >= 0 ? (ulong)value : throw new OverflowException($"Python int {value} does not fit in {target} (negative).");
        if (big.Value < 0 || big.Value > ulong.MaxValue) throw new OverflowException($"Python int {big} does not fit in {target} (range 0 to {ulong.MaxValue}).");
        return (ulong)big.Value;
    }

    private static double ToDouble(BorrowedReference o, Type target)
    {
        if (IsStr(o) || IsBytes(o)) throw Mismatch(o, target, "text is not parsed implicitly; call float() in Python");
        double value = CPython.PyFloat_AsDouble(o);
        if (value == -1.0 && !CPython.PyErr_Occurred().IsNull)
        {
            var error = PythonException.FetchCurrent();
            if (error.PythonTypeName == "OverflowError") throw new OverflowException($"Python int is too large for {target}: {error.PythonMessage}.");
            throw Mismatch(o, target, error.PythonMessage);
        }
        return value;
    }

    private static decimal ToDecimal(BorrowedReference o, Type target)
    {
        if (PythonException.QualifiedTypeName(CPython.Py_TYPE(o)) == "decimal.Decimal")
        {
            using var text = CPython.PyObject_Str(o);
            text.ThrowIfNull();
            return decimal.Parse(ToManagedString(text.Borrow()), NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        if (IsInt(o))
        {
            long value = ToInteger(o, out var big, target);
            return big is { } b ? (b >= (BigInteger)decimal.MinValue && b <= (BigInteger)decimal.MaxValue ? (decimal)b
                : throw new OverflowException($"Python int {b} does not fit in {target}.")) : value;
        }
        return (decimal)ToDouble(o, target);
    }

    private static Complex ToComplex(BorrowedReference o, Type target)
    {
        if (IsStr(o) || IsBytes(o)) throw Mismatch(o, target, "text is not parsed implicitly; call complex() in Python");
        double re = CPython.PyComplex_RealAsDouble(o);
        if (re == -1.0 && !CPython.PyErr_Occurred().IsNull) throw Mismatch(o, target, PythonException.FetchCurrent().PythonMessage);
        double im = CPython.PyComplex_ImagAsDouble(o);
        if (im == -1.0 && !CPython.PyErr_Occurred().IsNull) throw Mismatch(o, target, PythonException.FetchCurrent().PythonMessage);
        return new Complex(re, im);
    }

    private static byte[] ToBytes(BorrowedReference o)
    {
        if (IsBytes(o))
        {
            byte* data;
            nint size;
            if (CPython.PyBytes_AsStringAndSize(o, &data, &size) < 0) throw PythonException.FetchCurrent();
            return new ReadOnlySpan<byte>(data, checked((int)size)).ToArray();
        }
        if (IsStr(o)) throw Mismatch(o, typeof(byte[]), "str has no byte representation until encoded; call .encode() in Python");
        using var view = PyBufferView.Acquire(o, writable: false, typeof(byte[]));
        return view.CopyBytes();
    }

    private static Array ToArray(BorrowedReference o, Type element)
    {
        // numpy arrays and other buffers of a matching numeric type: one bulk copy instead of element by element.
        if (ElementType.For(element) is { } numeric && !IsList(o) && !IsTuple(o) && PyBufferView.Supports(o))
        {
            using var view = PyBufferView.Acquire(o, writable: false, element.MakeArrayType());
            view.CheckElementType(numeric);
            return view.CopyToArray(numeric);
        }
        if (NumbersFromSequence(o, element) is { } numbers) return numbers;
        var items = ToList(o, element);
        var array = Array.CreateInstance(element, items.Count);
        ((System.Collections.ICollection)items).CopyTo(array, 0);
        return array;
    }

    /// <summary>
    /// A list or tuple of numbers as double[], long[] or int[] without boxing each element; null for other element types
    /// or other sequences (converted element by element).
    /// </summary>
    private static Array? NumbersFromSequence(BorrowedReference o, Type element)
    {
        if (!IsList(o) && !IsTuple(o)) return null;
        if (element == typeof(double)) return ToNumbers<double>(o);
        if (element == typeof(long)) return ToNumbers<long>(o);
        if (element == typeof(int)) return ToNumbers<int>(o);
        return null;
    }

    private static T[] ToNumbers<T>(BorrowedReference o) where T : unmanaged
    {
        bool isList = IsList(o);
        nint n = isList ? CPython.PyList_Size(o) : CPython.PyTuple_Size(o);
        var result = new T[n];
        for (nint i = 0; i < n; i++)
        {
            // Fetched each time: a conversion may run Python code (__float__, __index__) that changes the list.
            var item = isList ? CPython.PyList_GetItem(o, i) : CPython.PyTuple_GetItem(o, i);
            if (item.IsNull) throw PythonException.FetchCurrent();
            if (typeof(T) == typeof(double)) { double v = ToDoubleFast(item); result[i] = Unsafe.As<double, T>(ref v); }
            else if (typeof(T) == typeof(long)) { long v = ToInt64Fast(item); result[i] = Unsafe.As<long, T>(ref v); }
            else { int v = ToInt32Fast(item); result[i] = Unsafe.As<int, T>(ref v); }
        }
        return result;
    }

    private static System.Collections.IList ToList(BorrowedReference o, Type element)
    {
        if (NumbersFromSequence(o, element) is { } numbers)
            return (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element), numbers)!;
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        if (IsStr(o) || IsBytes(o) || IsDict(o))
            throw Mismatch(o, list.GetType(), "a str, bytes or dict is not converted to a list implicitly");
        if (IsList(o) || IsTuple(o))
        {
            bool isList = IsList(o);
            nint n = isList ? CPython.PyList_Size(o) : CPython.PyTuple_Size(o);
            for (nint i = 0; i < n; i++)
                list.Add(ToManaged(isList ? CPython.PyList_GetItem(o, i) : CPython.PyTuple_GetItem(o, i), element));
            return list;
        }
        using var iterator = CPython.PyObject_GetIter(o);
        if (iterator.IsNull) throw Mismatch(o, list.GetType(), PythonException.FetchCurrent().PythonMessage);
        while (true)
        {
            using var item = CPython.PyIter_Next(iterator.Borrow());
            if (item.IsNull) break;
            list.Add(ToManaged(item.Borrow(), element));
        }
        PyObject.ThrowIfError();
        return list;
    }

    private static object?[] ToObjectArray(BorrowedReference tuple, Type element)
    {
        nint n = CPython.PyTuple_Size(tuple);
        var result = new object?[n];
        for (nint i = 0; i < n; i++) result[i] = ToManaged(CPython.PyTuple_GetItem(tuple, i), element);
        return result;
    }

    private static object ToDictionary(BorrowedReference o, Type keyType, Type valueType)
    {
        var dictionary = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(keyType, valueType))!;
        if (IsDict(o))
        {
            nint position = 0;
            BorrowedReference key, value;
            while (CPython.PyDict_Next(o, &position, &key, &value) != 0)
                dictionary[ToManaged(key, keyType) ?? throw Mismatch(key, keyType, "None cannot be a .NET dictionary key")] = ToManaged(value, valueType);
            return dictionary;
        }
        using var items = CPython.PyMapping_Items(o);
        if (items.IsNull) throw Mismatch(o, dictionary.GetType(), PythonException.FetchCurrent().PythonMessage);
        nint n = CPython.PyList_Size(items.Borrow());
        for (nint i = 0; i < n; i++)
        {
            var pair = CPython.PyList_GetItem(items.Borrow(), i);
            var key = CPython.PyTuple_GetItem(pair, 0);
            dictionary[ToManaged(key, keyType) ?? throw Mismatch(key, keyType, "None cannot be a .NET dictionary key")] =
                ToManaged(CPython.PyTuple_GetItem(pair, 1), valueType);
        }
        return dictionary;
    }

    private static object ToHashSet(BorrowedReference o, Type element)
    {
        var set = Activator.CreateInstance(typeof(HashSet<>).MakeGenericType(element))!;
        var add = set.GetType().GetMethod("Add")!;
        foreach (object? item in ToList(o, element)) add.Invoke(set, [item]);
        return set;
    }
}
