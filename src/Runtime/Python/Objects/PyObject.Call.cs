using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

public unsafe partial class PyObject
{
    private const int StackArgs = 16;

    /// <summary><c>obj()</c>: the fastest call (no argument tuple is built).</summary>
    public PyObject Call() => CPython.PyObject_CallNoArgs(Reference).MoveToPyObject();

    /// <summary><c>obj(*args)</c> with Python objects: vectorcall, the arguments are only borrowed (no allocation but the result).</summary>
    public unsafe PyObject Call(params ReadOnlySpan<PyObject?> args)
    {
        var self = Reference;
        int n = args.Length;
        if (n > StackArgs) return CallConverted(self, ToObjects(args), default);
        var slots = stackalloc BorrowedReference[n + 1]; // slot 0 free for the callee (PY_VECTORCALL_ARGUMENTS_OFFSET)
        for (int i = 0; i < n; i++) slots[i + 1] = args[i] is { } a ? a.Reference : CPython.Py_None;
        return CPython.PyObject_Vectorcall(self, slots + 1, (nuint)n | PyConst.PY_VECTORCALL_ARGUMENTS_OFFSET, BorrowedReference.Null).MoveToPyObject();
    }

    /// <summary><c>obj(*args)</c>; each argument is converted with <see cref="From"/>.</summary>
    public PyObject Call(params ReadOnlySpan<object?> args) => CallConverted(Reference, args, default);

    /// <summary><c>obj(*args, **kwargs)</c>; arguments and keyword values converted with <see cref="From"/>.</summary>
    public PyObject Call(ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>> kwargs)
        => CallConverted(Reference, args, kwargs);

    /// <summary><c>obj.name(*args)</c>.</summary>
    public PyObject CallMethod(string name, params ReadOnlySpan<object?> args)
    {
        using var method = GetAttr(name);
        return CallConverted(method.Reference, args, default);
    }

    /// <summary><c>obj.name(*args, **kwargs)</c>.</summary>
    public PyObject CallMethod(string name, ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>> kwargs)
    {
        using var method = GetAttr(name);
        return CallConverted(method.Reference, args, kwargs);
    }

    private static object?[] ToObjects(ReadOnlySpan<PyObject?> args)
    {
        var objects = new object?[args.Length];
        for (int i = 0; i < args.Length; i++) objects[i] = args[i];
        return objects;
    }

    /// <summary>
    /// Converts arguments to new references, calls with vectorcall (keywords as a kwnames tuple), releases them. The
    /// converted arguments are owned by this frame while they sit in the argument array (raw pointers: an array cannot
    /// hold ref structs); the finally gives each back.
    /// </summary>
    internal static unsafe PyObject CallConverted(BorrowedReference callable, ReadOnlySpan<object?> args, IEnumerable<KeyValuePair<string, object?>>? kwargs)
    {
        List<KeyValuePair<string, object?>>? keywords = kwargs?.ToList();
        int nk = keywords?.Count ?? 0;
        int total = args.Length + nk;
        BorrowedReference[]? rented = total + 1 > StackArgs ? new BorrowedReference[total + 1] : null;
        Span<BorrowedReference> slots = rented ?? stackalloc BorrowedReference[StackArgs];
        int converted = 0;
        NewReference kwnames = default;
        try
        {
            for (int i = 0; i < args.Length; i++, converted++) slots[i + 1] = new(PyConvert.ToPython(args[i]).DangerousMoveToPointer());
            if (nk > 0)
            {
                kwnames = CPython.PyTuple_New(nk);
                kwnames.ThrowIfNull();
                for (int k = 0; k < nk; k++, converted++)
                {
                    Check(CPython.PyTuple_SetItem(kwnames.Borrow(), k, PyConvert.FromString(keywords![k].Key).Steal()));
                    slots[args.Length + k + 1] = new(PyConvert.ToPython(keywords[k].Value).DangerousMoveToPointer());
                }
            }
            fixed (BorrowedReference* p = slots)
                return CPython.PyObject_Vectorcall(callable, p + 1, (nuint)args.Length | PyConst.PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames.Borrow()).MoveToPyObject();
        }
        finally
        {
            for (int i = 0; i < converted; i++) CPython.Py_DecRef(StolenReference.DangerousFromPointer(slots[i + 1].Address));
            kwnames.Dispose();
        }
    }
}
