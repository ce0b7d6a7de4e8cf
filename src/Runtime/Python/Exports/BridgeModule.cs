using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// The builtin module <c>_pympibridge</c>, created by the host through the C API and placed in <c>sys.modules</c>
/// (also when Python was already running). C# functions registered here are called from Python
/// (<c>import _pympibridge; _pympibridge.step(arr)</c>) through one METH_FASTCALL|METH_KEYWORDS trampoline;
/// numpy arrays arrive as <see cref="PyBuffer{T}"/> views without copying.
/// </summary>
public static unsafe class BridgeModule
{
    /// <summary>The module name Python imports.</summary>
    public const string Name = "_pympibridge";

    // Raw (a compiled export, DelegateAdapter) returns a new reference made for this call, which Python takes; a PyFunction's
    // result stays the caller's (it may be cached) and Python gets a new reference to it.
    private sealed record Entry(string Name, PyFunction? Function, RawPyFunction? Raw);

    private static readonly Lock Gate = new();
    private static Entry[] _entries = new Entry[16];
    private static int _count;
    private static BorrowedReference _module; // owned by sys.modules for the process lifetime

    /// <summary>Creates the module under the GIL during engine start.</summary>
    internal static void Create()
    {
        if (!_module.IsNull) return;
        fixed (byte* name = Py.Utf8(Name))
        {
            using var created = CPython.PyModule_New(name);
            created.ThrowIfNull();
            PyObject.Check(CPython.PyDict_SetItemString(CPython.PyImport_GetModuleDict(), name, created.Borrow()));
            _module = created.Borrow(); // sys.modules holds it from now on
        }
        using var module = _module.ToPyObject();
        module.SetAttr("__doc__", "Functions implemented in C# by the PyMpiBridge host.");
    }

    /// <summary>The module object (a new reference).</summary>
    public static PyObject Module
    {
        get
        {
            using var gil = Py.Gil();
            return _module.ToPyObject();
        }
    }

    /// <summary>
    /// Exports <paramref name="function"/> as <c>_pympibridge.&lt;name&gt;</c>: the fastest form, arguments are read
    /// straight from the call (<see cref="PyArguments"/>). Registering a name again replaces the function.
    /// </summary>
    public static void Register(string name, PyFunction function, string? doc = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        Register(name, function, null, doc);
    }

    private static void Register(string name, PyFunction? function, RawPyFunction? raw, string? doc)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var gil = Py.Gil();
        int index;
        lock (Gate)
        {
            index = _count;
            if (index == _entries.Length)
            {
                var bigger = new Entry[index * 2];
                Array.Copy(_entries, bigger, index);
                _entries = bigger;
            }
            _entries[index] = new Entry(name, function, raw);
            Volatile.Write(ref _count, index + 1);
        }
        // The method definition must outlive the function object: allocated once per registration, never freed.
        var def = (PyMethodDef*)NativeMemory.AllocZeroed((nuint)sizeof(PyMethodDef));
        def->ml_name = Marshal.StringToCoTaskMemUTF8(name);
        def->ml_meth = (nint)(delegate* unmanaged<BorrowedReference, BorrowedReference*, nint, BorrowedReference, nint>)&Trampoline;
        def->ml_flags = PyConst.METH_FASTCALL | PyConst.METH_KEYWORDS;
        def->ml_doc = doc is null ? 0 : Marshal.StringToCoTaskMemUTF8(doc);
        using var self = PyObject.From(index);            // identifies the entry in the trampoline
        using var moduleName = PyObject.From(Name);
        using var pyFunction = CPython.PyCFunction_NewEx(def, self.Reference, moduleName.Reference).MoveToPyObject();
        using var module = _module.ToPyObject();
        module.SetAttr(name, pyFunction);
    }

    /// <summary>
    /// Exports any delegate: positional/keyword arguments are converted to its parameter types
    /// (<see cref="PyBuffer{T}"/> parameters receive numpy arrays without copying; PyObject and PyBuffer arguments are
    /// disposed after the call), optional parameters may be omitted, the result is converted with <see cref="PyObject.From(object?)"/>.
    /// </summary>
    public static void Register(string name, Delegate function, string? doc = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function is PyFunction direct) { Register(name, direct, doc); return; }
        Register(name, null, DelegateAdapter.Create(name, function.Method, function), doc ?? Signature(name, function.Method));
    }

    /// <summary>
    /// Exports the static <paramref name="method"/> as <c>_pympibridge.&lt;name&gt;</c> and returns the function object, for
    /// callers that hand it out (engine tasks run C# methods this way); arrays of numbers it returns become numpy arrays.
    /// </summary>
    internal static PyObject ExportMethod(string name, MethodInfo method)
    {
        Register(name, null, DelegateAdapter.Create(name, method, null, arrayResultsAsNumpy: true), Signature(name, method));
        return Attribute(name);
    }

    /// <summary>
    /// Exports <paramref name="function"/>, which returns a new reference Python takes (no wrapper object per call),
    /// as <c>_pympibridge.&lt;name&gt;</c>, and returns the function object.
    /// </summary>
    internal static PyObject ExportRaw(string name, RawPyFunction function, string doc)
    {
        Register(name, null, function, doc);
        return Attribute(name);
    }

    /// <summary>The module's attribute <paramref name="name"/> (a new reference).</summary>
    internal static PyObject Attribute(string name)
    {
        using var gil = Py.Gil();
        using var module = _module.ToPyObject();
        return module.GetAttr(name);
    }

    /// <summary>Exports every static method of <paramref name="type"/> marked with <see cref="PythonExportAttribute"/>.</summary>
    public static int RegisterAll(Type type) => RegisterAllNamed(type).Count;

    /// <summary>As <see cref="RegisterAll"/>, returning the Python names it registered.</summary>
    internal static IReadOnlyList<string> RegisterAllNamed(Type type)
    {
        var names = new List<string>();
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
        {
            var export = method.GetCustomAttribute<PythonExportAttribute>();
            if (export is null) continue;
            string name = export.Name ?? SnakeCase(method.Name);
            Register(name, null, DelegateAdapter.Create(name, method, null), export.Doc ?? Signature(name, method));
            names.Add(name);
        }
        return names;
    }

    private static string Signature(string name, MethodInfo method) =>
        $"{name}({string.Join(", ", method.GetParameters().Select(p => $"{p.Name}: {p.ParameterType.Name}"))}) -> {method.ReturnType.Name}  [C# {method.DeclaringType?.Name}.{method.Name}]";

    internal static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) text.Append('_');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    /// <summary>The C entry of every export: arguments borrowed from the caller, returns a new reference (null with an error set).</summary>
    [UnmanagedCallersOnly]
    private static nint Trampoline(BorrowedReference self, BorrowedReference* args, nint nargs, BorrowedReference kwnames)
    {
        int savedDepth = GilState.Depth;
        GilState.Depth = savedDepth + 1; // Python holds the GIL for us during the call
        try
        {
            int overflow;
            int index = (int)CPython.PyLong_AsLongLongAndOverflow(self, &overflow);
            Entry entry = _entries[index];
            if (entry.Raw is { } raw) return raw(new PyArguments(args, (int)nargs, kwnames, entry.Name)).DangerousMoveToPointer();
            PyObject? result = entry.Function!(new PyArguments(args, (int)nargs, kwnames, entry.Name));
            // The C# object stays valid (it may be cached): Python gets a reference of its own.
            return NewReference.FromBorrowed(result is null ? CPython.Py_None : result.Reference).DangerousMoveToPointer();
        }
        catch (Exception e)
        {
            ExceptionMapping.SetPythonError(e is TargetInvocationException { InnerException: { } inner } ? inner : e);
            return 0;
        }
        finally
        {
            GilState.Depth = savedDepth;
        }
    }
}
