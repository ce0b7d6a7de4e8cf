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
        Register<T>(o => toManaged(new BorrowedReference(o.Handle)), toPython);
    }

    private static readonly ConcurrentDictionary<string, Func<PyObject, object?>> s_naturals = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers the natural .NET form of Python objects of one type, named as <see cref="PyObject.TypeName"/> names it
    /// (e.g. <c>pandas.core.frame.DataFrame</c>): <see cref="PyObject.ToManaged"/>, <c>As&lt;object&gt;</c> and received
    /// object messages then give that form instead of a <see cref="PyObject"/>. <paramref name="toManaged"/> receives a
    /// borrowed view (do not dispose it; the GIL is held).
    /// </summary>
    public static void RegisterNatural(string pythonTypeName, Func<PyObject, object?> toManaged)
    {
        ArgumentNullException.ThrowIfNull(toManaged);
        s_naturals[pythonTypeName] = toManaged;
    }

    /// <summary>The natural form registered for <paramref name="o"/>'s exact type, if any (objects no other rule converts).</summary>
    internal static bool TryToNatural(nint o, out object? value)
    {
        value = null;
        if (s_naturals.IsEmpty || !s_naturals.TryGetValue(PythonException.QualifiedTypeName(Interop.CPython.Py_TYPE(o)), out var convert)) return false;
        using var borrowed = new BorrowedReference(o).ToPyObject();
        value = convert(borrowed);
        return true;
    }

    /// <summary>The borrowed-reference converter of <typeparamref name="T"/>, if registered (one static read per call).</summary>
    internal static class Borrowed<T>
    {
        public static volatile Func<BorrowedReference, T>? ToManaged;
    }

    internal static bool TryToManaged(nint o, Type target, out object? value)
    {
        value = null;
        if (!s_any || !s_converters.TryGetValue(target, out var converter) || converter.ToManaged is null) return false;
        using var borrowed = new BorrowedReference(o).ToPyObject();
        value = converter.ToManaged(borrowed);
        return true;
    }

    internal static bool TryToPython(object value, out nint handle)
    {
        handle = 0;
        if (!s_any) return false;
        for (Type? type = value.GetType(); type is not null; type = type.BaseType)
        {
            if (s_converters.TryGetValue(type, out var converter) && converter.ToPython is not null)
            {
                using var result = converter.ToPython(value);
                handle = result.StealHandle();
                return true;
            }
        }
        return false;
    }
}
