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
