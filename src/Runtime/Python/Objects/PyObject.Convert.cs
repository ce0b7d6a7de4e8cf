using System.Numerics;
using System.Runtime.CompilerServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

public unsafe partial class PyObject
{
    /// <summary>
    /// The Python object for a .NET value: null→None, bool, integers (any size, BigInteger included)→int,
    /// float/double→float, decimal→decimal.Decimal, Complex→complex, string→str, byte[]→bytes, tuples→tuple,
    /// IDictionary→dict, ISet→set, other sequences→list (copies), a PyObject→another reference to it.
    /// Arrays shared without copying: <see cref="PyArray.From{T}(T[])"/>.
    /// </summary>
    /// <exception cref="InvalidCastException">The .NET type has no Python counterpart.</exception>
    public static PyObject From(object? value)
    {
        GilState.ThrowIfNotHeld();
        return PyConvert.ToPython(value).MoveToPyObject();
    }

    /// <summary>Python int from a long (no boxing).</summary>
    public static PyObject From(long value)
    {
        GilState.ThrowIfNotHeld();
        return CPython.PyLong_FromLongLong(value).MoveToPyObject();
    }

    /// <summary>Python float from a double (no boxing).</summary>
    public static PyObject From(double value)
    {
        GilState.ThrowIfNotHeld();
        return CPython.PyFloat_FromDouble(value).MoveToPyObject();
    }

    /// <summary>Python str from a string (None for null).</summary>
    public static PyObject From(string? value)
    {
        GilState.ThrowIfNotHeld();
        return (value is null ? PyConvert.ToPython(null) : PyConvert.FromString(value)).MoveToPyObject();
    }

    /// <summary>Python bool.</summary>
    public static PyObject From(bool value)
    {
        GilState.ThrowIfNotHeld();
        return NewReference.FromBorrowed(value ? CPython.Py_True : CPython.Py_False).MoveToPyObject();
    }

    /// <summary>
    /// Converts to <typeparamref name="T"/>: bool, integer types (OverflowException naming the value when it does not fit),
    /// BigInteger, float/double/Half/decimal, Complex/Complex32, string, char, byte[], arrays/lists (numpy arrays of a
    /// matching dtype are copied in one block), dictionaries, sets, enums, nullable types, object (natural form), PyObject.
    /// </summary>
    /// <exception cref="InvalidCastException">Names the Python type and <typeparamref name="T"/>.</exception>
    public T As<T>()
    {
        var o = Reference;
        if (typeof(T) == typeof(long)) { long v = PyConvert.ToInt64Fast(o); return Unsafe.As<long, T>(ref v); }
        if (typeof(T) == typeof(int)) { int v = PyConvert.ToInt32Fast(o); return Unsafe.As<int, T>(ref v); }
        if (typeof(T) == typeof(double)) { double v = PyConvert.ToDoubleFast(o); return Unsafe.As<double, T>(ref v); }
        return (T)PyConvert.ToManaged(o, typeof(T))!;
    }

    /// <summary>Like <see cref="As{T}"/>, but returns false instead of throwing for a value that does not convert.</summary>
    public bool TryAs<T>(out T value)
    {
        try
        {
            value = As<T>();
            return true;
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or PythonException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>The natural .NET value (see <see cref="As{T}"/> with object).</summary>
    public object? ToManaged() => PyConvert.ToNatural(Reference);

    /// <summary>Zero-copy view of this object's buffer (numpy array, bytes, …) as <typeparamref name="T"/> elements.</summary>
    public PyBuffer<T> GetBuffer<T>(bool writable = false) where T : unmanaged => PyBuffer<T>.Get(this, writable);
}

internal static unsafe partial class PyConvert
{
    // Fast paths for the commonest conversions: exact int/float need one C call and no boxing.
    public static long ToInt64Fast(BorrowedReference o)
    {
        if (CPython.Py_TYPE(o) == CPython.PyLong_Type)
        {
            int overflow;
            long v = CPython.PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow == 0 && !(v == -1 && !CPython.PyErr_Occurred().IsNull)) return v;
            if (!CPython.PyErr_Occurred().IsNull) CPython.PyErr_Clear();
        }
        return (long)ToManaged(o, typeof(long))!;
    }

    public static int ToInt32Fast(BorrowedReference o)
    {
        if (CPython.Py_TYPE(o) == CPython.PyLong_Type)
        {
            int overflow;
            long v = CPython.PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow == 0 && v >= int.MinValue && v <= int.MaxValue && !(v == -1 && !CPython.PyErr_Occurred().IsNull)) return (int)v;
            if (!CPython.PyErr_Occurred().IsNull) CPython.PyErr_Clear();
        }
        return (int)ToManaged(o, typeof(int))!;
    }

    public static double ToDoubleFast(BorrowedReference o)
    {
        var type = CPython.Py_TYPE(o);
        if (type == CPython.PyFloat_Type) return *(double*)(o.Address + 16); // PyFloat_AS_DOUBLE: ob_fval follows the header
        if (type == CPython.PyLong_Type)
        {
            double v = CPython.PyFloat_AsDouble(o);
            if (!(v == -1.0 && !CPython.PyErr_Occurred().IsNull)) return v;
            CPython.PyErr_Clear();
        }
        return (double)ToManaged(o, typeof(double))!;
    }
}
