using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// The arguments of a call from Python into a C# function (vectorcall layout, nothing copied): positional
/// arguments by index, keyword arguments by name. Valid only during the call.
/// </summary>
public readonly unsafe ref struct PyArguments
{
    private readonly BorrowedReference* _args;
    private readonly int _count;
    private readonly BorrowedReference _kwnames;
    private readonly string _function;

    internal PyArguments(BorrowedReference* args, int count, BorrowedReference kwnames, string function)
    {
        _args = args;
        _count = count;
        _kwnames = kwnames;
        _function = function;
    }

    /// <summary>Number of positional arguments.</summary>
    public int Count => _count;

    /// <summary>Positional argument <paramref name="index"/> (0 ≤ index &lt; Count, checked by the caller), borrowed.</summary>
    internal BorrowedReference At(int index) => _args[index];

    /// <summary>Whether any keyword argument was given.</summary>
    internal bool HasKeywords => !_kwnames.IsNull && CPython.PyTuple_Size(_kwnames) != 0;

    /// <summary>Number of keyword arguments.</summary>
    public int KeywordCount => _kwnames.IsNull ? 0 : (int)CPython.PyTuple_Size(_kwnames);

    /// <summary>Positional argument <paramref name="index"/>, borrowed.</summary>
    public BorrowedReference this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
                throw new ArgumentCountException($"{_function}() needs at least {index + 1} positional argument(s), got {_count}.");
            return _args[index];
        }
    }

    /// <summary>Positional argument <paramref name="index"/> converted like <see cref="PyObject.As{T}"/>.</summary>
    public T Get<T>(int index)
    {
        var o = this[index];
        try
        {
            if (typeof(T) == typeof(long)) { long v = PyConvert.ToInt64Fast(o); return System.Runtime.CompilerServices.Unsafe.As<long, T>(ref v); }
            if (typeof(T) == typeof(double)) { double v = PyConvert.ToDoubleFast(o); return System.Runtime.CompilerServices.Unsafe.As<double, T>(ref v); }
            return (T)PyConvert.ToManaged(o, typeof(T))!;
        }
        catch (InvalidCastException e)
        {
            throw new InvalidCastException($"{_function}() argument {index + 1}: {e.Message}", e);
        }
    }

    /// <summary>Positional argument <paramref name="index"/> as an owned reference.</summary>
    public PyObject GetObject(int index) => this[index].ToPyObject();

    /// <summary>Zero-copy view of positional argument <paramref name="index"/> (a numpy array…); dispose it.</summary>
    public PyBuffer<T> GetBuffer<T>(int index, bool writable = false) where T : unmanaged
    {
        using var o = GetObject(index);
        return PyBuffer<T>.Get(o, writable);
    }

    /// <summary>The keyword argument <paramref name="name"/>, if given.</summary>
    public bool TryGetKeyword(string name, out BorrowedReference value)
    {
        int n = KeywordCount;
        for (int k = 0; k < n; k++)
        {
            if (PyConvert.ToManagedString(CPython.PyTuple_GetItem(_kwnames, k)) == name)
            {
                value = _args[_count + k];
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Names of the keyword arguments, in call order.</summary>
    public string[] KeywordNames()
    {
        var names = new string[KeywordCount];
        for (int k = 0; k < names.Length; k++) names[k] = PyConvert.ToManagedString(CPython.PyTuple_GetItem(_kwnames, k));
        return names;
    }

    /// <summary>Keyword argument converted like <see cref="PyObject.As{T}"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public T GetKeyword<T>(string name, T defaultValue)
        => TryGetKeyword(name, out var value) ? (T)PyConvert.ToManaged(value, typeof(T))! : defaultValue;
}
