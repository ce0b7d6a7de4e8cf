using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

public unsafe partial class PyObject
{
    private const int StackArgs = 16;

    /// <summary><c>obj()</c>: the fastest call (no argument tuple is built).</summary>
    public PyObject Call() => Steal(CPython.PyObject_CallNoArgs(Handle));

    /// <summary><c>obj(*args)</c> with Python objects: vectorcall, the arguments are only borrowed (no allocation but the result).</summary>
    public unsafe PyObject Call(params ReadOnlySpan<PyObject?> args)
    {
        nint self = Handle;
        int n = args.Length;
        if (n > StackArgs) return CallConverted(self, ToObjects(args), default);
        nint* slots = stackalloc nint[n + 1]; // slot 0 free for the callee (PY_VECTORCALL_ARGUMENTS_OFFSET)
        for (int i = 0; i < n; i++) slots[i + 1] = args[i] is { } a ? a.Handle : CPython.Py_None;
        return Steal(CPython.PyObject_Vectorcall(self, slots + 1, (nuint)n | PyConst.PY_VECTORCALL_ARGUMENTS_OFFSET, 0));
    }

    /// <summary><c>obj(*args)</c>; each argument is converted with <see cref="From"/>.</summary>
    public PyObject Call(params ReadOnlySpan<object?> args) => CallConverted(Handle, args, default);

    /// <summary><c>obj(*args, **kwargs)</c>; arguments and keyword values converted with <see cref="From"/>.</summary>
    public PyObject Call(ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>> kwargs)
        => CallConverted(Handle, args, kwargs);

    /// <summary><c>obj.name(*args)</c>.</summary>
    public PyObject CallMethod(string name, params ReadOnlySpan<object?> args)
    {
        using var method = GetAttr(name);
        return CallConverted(method.Handle, args, default);
    }

    /// <summary><c>obj.name(*args, **kwargs)</c>.</summary>
    public PyObject CallMethod(string name, ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>> kwargs)
    {
        using var method = GetAttr(name);
        return CallConverted(method.Handle, args, kwargs);
    }

    private static object?[] ToObjects(ReadOnlySpan<PyObject?> args)
    {
        var objects = new object?[args.Length];
        for (int i = 0; i < args.Length; i++) objects[i] = args[i];
        return objects;
    }

    /// <summary>Converts arguments to new references, calls with vectorcall (keywords as a kwnames tuple), releases them.</summary>
    internal static unsafe PyObject CallConverted(nint callable, ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>>? kwargs)
    {
        List<KeyValuePair<string, object?>>? keywords = kwargs?.ToList();
        int nk = keywords?.Count ?? 0;
        int total = args.Length + nk;
        nint[]? rented = total + 1 > StackArgs ? new nint[total + 1] : null;
        Span<nint> slots = rented ?? stackalloc nint[StackArgs];
        int converted = 0;
        nint kwnames = 0;
        try
        {
            for (int i = 0; i < args.Length; i++, converted++) slots[i + 1] = PyConvert.ToPython(args[i]);
            if (nk > 0)
            {
                kwnames = CPython.PyTuple_New(nk);
                if (kwnames == 0) throw PythonException.FetchCurrent();
                for (int k = 0; k < nk; k++, converted++)
                {
                    Check(CPython.PyTuple_SetItem(kwnames, k, PyConvert.FromString(keywords![k].Key)));
                    slots[args.Length + k + 1] = PyConvert.ToPython(keywords[k].Value);
                }
            }
            fixed (nint* p = slots)
                return Steal(CPython.PyObject_Vectorcall(callable, p + 1, (nuint)args.Length | PyConst.PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames));
        }
        finally
        {
            for (int i = 0; i < converted; i++) CPython.Py_DecRef(slots[i + 1]);
            if (kwnames != 0) CPython.Py_DecRef(kwnames);
        }
    }
}
