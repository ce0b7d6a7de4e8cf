using System.Collections;
using System.Collections.Concurrent;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyMpiBridge.Python;

namespace PyMpiBridge.Messaging;

/// <summary>
/// Turns .NET object graphs into Python objects and back, for messages that Python code sends and receives with
/// mpi4py's lowercase <c>send/recv/bcast</c>. Numeric arrays become numpy arrays (and numpy arrays come back as
/// .NET arrays of the matching element type); dictionaries, lists, tuples, strings, numbers and None map as
/// <see cref="PyObject.From(object?)"/> maps them. Caller holds the GIL.
/// </summary>
internal static class ObjectCodec
{
    private static readonly ConcurrentDictionary<Type, MethodInfo> ArrayExporters = new();

    /// <summary>A Python object for <paramref name="value"/>, arrays as numpy arrays, containers converted deeply.</summary>
    public static PyObject ToPython(object? value)
    {
        switch (value)
        {
            case PyObject o:
                return o.CloneRef();
            case byte[] when value.GetType() == typeof(byte[]): // bytes stay bytes, as in Python (not sbyte[]: the CLR lets it match byte[])
            case string:
            case null:
                return PyObject.From(value);
            case Array array when IsNumeric(array.GetType().GetElementType()!) && array.Rank <= 3:
                return ShareArray(array);
            case IDictionary dictionary:
            {
                using var dict = Py.Eval("{}");
                foreach (DictionaryEntry entry in dictionary)
                {
                    using var key = ToPython(entry.Key);
                    using var item = ToPython(entry.Value);
                    dict.SetItem(key, item);
                }
                return dict.CloneRef();
            }
            case ITuple tuple:
            {
                var items = new PyObject[tuple.Length];
                try
                {
                    for (int i = 0; i < items.Length; i++) items[i] = ToPython(tuple[i]);
                    using var list = PyObject.From(items);
                    using var builtins = Py.Import("builtins");
                    return builtins.CallMethod("tuple", list);
                }
                finally { foreach (var item in items) item?.Dispose(); }
            }
            case IEnumerable sequence when value is not IDictionary && !IsSet(value):
            {
                var items = new List<PyObject>();
                try
                {
                    foreach (object? item in sequence) items.Add(ToPython(item));
                    return PyObject.From(items);
                }
                finally { foreach (var item in items) item.Dispose(); }
            }
            default:
                return PyObject.From(value);
        }
    }

    /// <summary>
    /// The natural .NET value of a Python object: numpy arrays as T[] / T[,] / T[,,] copies, dict as
    /// <c>Dictionary&lt;object, object?&gt;</c>, list as <c>List&lt;object?&gt;</c>, tuple as <c>object?[]</c>,
    /// scalars as <see cref="PyObject.ToManaged"/> gives them; anything else stays a <see cref="PyObject"/>.
    /// </summary>
    public static object? ToManaged(PyObject value)
    {
        if (IsNdarray(value)) return ArrayFromNumpy(value);
        switch (value.TypeName)
        {
            case "dict":
            {
                var result = new Dictionary<object, object?>();
                using var items = value.CallMethod("items");
                foreach (var pair in items)
                    using (pair)
                    using (var key = pair[0])
                    using (var item = pair[1])
                        result[ToManaged(key) ?? throw new InvalidCastException("None as a dictionary key has no .NET form")] = ToManaged(item);
                return result;
            }
            case "list":
            {
                var result = new List<object?>();
                foreach (var item in value) using (item) result.Add(ToManaged(item));
                return result;
            }
            case "tuple":
            {
                var result = new List<object?>();
                foreach (var item in value) using (item) result.Add(ToManaged(item));
                return result.ToArray();
            }
            default:
                if (value.TypeName.StartsWith("numpy.", StringComparison.Ordinal) && value.HasAttr("item"))
                {
                    using var scalar = value.CallMethod("item"); // numpy scalar → Python scalar
                    return scalar.ToManaged();
                }
                return value.ToManaged();
        }
    }

    private static bool IsSet(object value) =>
        value.GetType().GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ISet<>));

    /// <summary>Arrays of the table's canonical element types travel as numpy arrays (char, nint, nuint as lists).</summary>
    private static bool IsNumeric(Type t) => ElementType.For(t) is { Canonical: true };

    /// <summary>A numpy view of the .NET array (no copy here; pickling copies once into the message).</summary>
    private static PyObject ShareArray(Array array)
    {
        var method = ArrayExporters.GetOrAdd(array.GetType(), type =>
        {
            Type element = type.GetElementType()!;
            return typeof(PyArray).GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Single(m => m.Name == nameof(PyArray.From) && m.IsGenericMethodDefinition &&
                             m.GetParameters() is [{ ParameterType.IsArray: true } p] && p.ParameterType.GetArrayRank() == type.GetArrayRank())
                .MakeGenericMethod(element);
        });
        return (PyObject)method.Invoke(null, [array])!;
    }

    private static bool IsNdarray(PyObject value) => value.TypeName is "numpy.ndarray" or "ndarray";

    /// <summary>A .NET copy of a numpy array, with the element type the table gives its dtype's kind and size.</summary>
    private static Array ArrayFromNumpy(PyObject ndarray)
    {
        using var numpy = Py.Import("numpy");
        using var contiguous = numpy.CallMethod("ascontiguousarray", ndarray);
        using var dtype = contiguous.GetAttr("dtype");
        using var kindObject = dtype.GetAttr("kind");
        using var itemSize = dtype.GetAttr("itemsize");
        using var byteOrder = dtype.GetAttr("byteorder");
        using var shapeObject = contiguous.GetAttr("shape");
        long[] shape = shapeObject.As<long[]>();
        string kind = kindObject.As<string>();
        var element = (byteOrder.As<string>() == ">" ? null : ElementType.CanonicalOf(kind[0], itemSize.As<long>()))
            ?? throw new InvalidCastException(
                $"a numpy array of dtype '{dtype}' has no .NET element type here; send numeric arrays " +
                $"({string.Join(", ", ElementType.All.Where(e => e.Canonical).Select(e => e.DTypeName))}) or convert with .astype(...) first.");
        return (Array)CopyMethod.MakeGenericMethod(element.Type).Invoke(null, [contiguous, shape])!;
    }

    private static readonly MethodInfo CopyMethod = typeof(ObjectCodec).GetMethod(nameof(Copy), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static Array Copy<T>(PyObject contiguous, long[] shape) where T : unmanaged
    {
        using var buffer = contiguous.GetBuffer<T>();
        ReadOnlySpan<T> data = buffer.ReadOnlySpan;
        Array result = shape.Length switch
        {
            0 or 1 => new T[data.Length],
            2 => new T[shape[0], shape[1]],
            3 => new T[shape[0], shape[1], shape[2]],
            _ => new T[data.Length], // higher ranks arrive flattened (C order); the shape is lost
        };
        var target = MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(result)), data.Length);
        data.CopyTo(target);
        return result;
    }
}
