using System.Collections.Concurrent;

namespace PyMpiBridge.Python;

/// <summary>
/// Conversions for .NET types the embedding does not know, registered by higher layers: the bridge registers
/// <c>Comm</c> ↔ mpi4py communicator, so a C# function exported to Python can take a communicator parameter.
/// Used by <see cref="PyObject.From(object?)"/>, <see cref="PyObject.As{T}"/> and exported-function arguments.
/// </summary>
public static class PyConverters
{
    private sealed record Converter(Func<PyObject, object?>? ToManaged, Func<object, PyObject>? ToPython);

    private static readonly ConcurrentDictionary<Type, Converter> s_converters = new();
    private static volatile bool s_any;

    /// <summary>
    /// Registers how <typeparamref name="T"/> crosses: <paramref name="toManaged"/> receives a borrowed view of the
    /// Python object (do not dispose it; the GIL is held), <paramref name="toPython"/> returns a new reference.
    /// </summary>
    public static void Register<T>(Func<PyObject, T>? toManaged, Func<T, PyObject>? toPython) where T : class
    {
        s_converters[typeof(T)] = new Converter(
            toManaged is null ? null : o => toManaged(o),
            toPython is null ? null : v => toPython((T)v));
        s_any = true;
    }

    /// <summary>
    /// Registers how <typeparamref name="T"/> crosses, reading the Python object through a borrowed reference (the GIL
    /// is held; do not keep it): exported C# functions with a <typeparamref name="T"/> parameter convert without
    /// wrapping the object or boxing, so a converter that allocates nothing makes the call allocate nothing.
    /// </summary>
    public static void RegisterBorrowed<T>(Func<BorrowedReference, T> toManaged, Func<T, PyObject>? toPython) where T : class
    {
        ArgumentNullException.ThrowIfNull(toManaged);
        Borrowed<T>.ToManaged = toManaged;
        Register<T>(o => toManaged(o.Reference), toPython);
    }

    /// <summary>A registered natural form: the type is found once its module is imported, then compared by address.</summary>
    private sealed class Natural(string module, string name, Func<PyObject, object?> toManaged)
    {
        public readonly string Module = module, Name = name;
        public readonly Func<PyObject, object?> ToManaged = toManaged;
        public PyObject? Type; // held for the process lifetime, so its address is never reused
    }

    private static volatile Natural[] s_naturals = [];

    /// <summary>
    /// Registers the natural .NET form of Python objects of one type, by its qualified name (<c>module.Class</c>, e.g.
    /// <c>pandas.core.frame.DataFrame</c>, as <see cref="PyObject.TypeName"/> names it): <see cref="PyObject.ToManaged"/>,
    /// <c>As&lt;object&gt;</c> and received object messages then give that form instead of a <see cref="PyObject"/>.
    /// <paramref name="toManaged"/> receives a borrowed view (do not dispose it; the GIL is held). Exact type only.
    /// </summary>
    public static void RegisterNatural(string pythonTypeName, Func<PyObject, object?> toManaged)
    {
        ArgumentNullException.ThrowIfNull(toManaged);
        int dot = pythonTypeName.LastIndexOf('.');
        if (dot <= 0) throw new ArgumentException($"expected module.Class, got '{pythonTypeName}'.", nameof(pythonTypeName));
        lock (s_converters)
            s_naturals = [.. s_naturals.Where(n => n.Module + "." + n.Name != pythonTypeName),
                          new Natural(pythonTypeName[..dot], pythonTypeName[(dot + 1)..], toManaged)];
    }

    /// <summary>The natural form registered for <paramref name="o"/>'s exact type, if any (objects no other rule converts). GIL held.</summary>
    internal static bool TryToNatural(BorrowedReference o, out object? value)
    {
        value = null;
        var type = Interop.CPython.Py_TYPE(o);
        foreach (var natural in s_naturals)
        {
            if ((natural.Type ?? Resolve(natural))?.DangerousBorrowUnchecked() != type) continue;
            using var borrowed = o.ToPyObject();
            value = natural.ToManaged(borrowed);
            return true;
        }
        return false;
    }

    /// <summary>The type, once its module is in sys.modules (before that, no object of it can exist).</summary>
    private static unsafe PyObject? Resolve(Natural natural)
    {
        var modules = Interop.CPython.PyImport_GetModuleDict();
        BorrowedReference module;
        fixed (byte* name = Py.Utf8(natural.Module)) module = Interop.CPython.PyDict_GetItemString(modules, name);
        if (module.IsNull) return null;
        using var moduleObject = module.ToPyObject();
        var type = moduleObject.GetAttrOrNull(natural.Name);
        if (type is not null) GC.SuppressFinalize(type);
        return natural.Type = type;
    }

    /// <summary>The borrowed-reference converter of <typeparamref name="T"/>, if registered (one static read per call).</summary>
    internal static class Borrowed<T>
    {
        public static volatile Func<BorrowedReference, T>? ToManaged;
    }

    internal static bool TryToManaged(BorrowedReference o, Type target, out object? value)
    {
        value = null;
        if (!s_any || !s_converters.TryGetValue(target, out var converter) || converter.ToManaged is null) return false;
        using var borrowed = o.ToPyObject();
        value = converter.ToManaged(borrowed);
        return true;
    }

    internal static bool TryToPython(object value, out NewReference reference)
    {
        reference = default;
        if (!s_any) return false;
        for (Type? type = value.GetType(); type is not null; type = type.BaseType)
        {
            if (s_converters.TryGetValue(type, out var converter) && converter.ToPython is not null)
            {
                using var result = converter.ToPython(value);
                reference = NewReference.FromPyObject(result);
                return true;
            }
        }
        return false;
    }
}
