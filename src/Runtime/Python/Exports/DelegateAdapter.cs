using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// Turns a typed method into a function Python calls, compiled once per export: an expression tree converts each
/// argument with the converter of its parameter type (<see cref="ArgumentConverter{T}"/>), calls the method directly
/// and converts the result (<see cref="ResultConverter{T}"/>). No reflection runs on the call path, and primitive,
/// registered (e.g. <c>Comm</c>) and <see cref="PyBuffer{T}"/> arguments allocate nothing per call.
/// </summary>
internal static unsafe class DelegateAdapter
{
    /// <summary>
    /// The compiled body: reads the bound arguments (borrowed, null for "use the default") from <c>argv</c>, a
    /// <c>BorrowedReference*</c>, and returns a new reference as a raw pointer (expression trees cannot carry
    /// <see cref="NewReference"/>, a ref struct); <see cref="CompiledExport.Invoke"/> wraps it at once.
    /// </summary>
    internal delegate nint CompiledBody(nint argv);

    private static readonly MethodInfo ReadSlot = typeof(DelegateAdapter).GetMethod(nameof(Slot), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo NoneMethod = typeof(DelegateAdapter).GetMethod(nameof(None), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static BorrowedReference Slot(nint argv, int index) => ((BorrowedReference*)argv)[index];

    private static nint None() => NewReference.FromBorrowed(CPython.Py_None).DangerousMoveToPointer();

    /// <summary>
    /// Compiles an export of <paramref name="method"/>: static when <paramref name="function"/> is null, otherwise called
    /// through <paramref name="function"/> (a delegate over it, closures included). With
    /// <paramref name="arrayResultsAsNumpy"/>, a returned 1-D or 2-D array of numbers becomes a numpy array over the
    /// same memory instead of a list (for results that travel on, pickled with their buffers out of band).
    /// </summary>
    public static RawPyFunction Create(string name, MethodInfo method, Delegate? function, bool arrayResultsAsNumpy = false)
    {
        ParameterInfo[] parameters = method.GetParameters();
        foreach (var p in parameters)
            if (p.ParameterType.IsByRef || p.ParameterType.IsByRefLike || p.ParameterType.IsPointer)
                throw new NotSupportedException($"Parameter '{p.Name}' of {method.Name} is {p.ParameterType}; use PyBuffer<T> for zero-copy arrays, or register a PyFunction.");

        var argv = Expression.Parameter(typeof(nint), "argv");
        var locals = new ParameterExpression[parameters.Length];
        var body = new List<Expression>();
        var releases = new List<Expression>();
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            Type type = p.ParameterType;
            locals[i] = Expression.Variable(type, p.Name);
            object binding = Activator.CreateInstance(typeof(ParameterBinding<>).MakeGenericType(type),
                name, p.Name ?? $"arg{i}", i, p.IsOptional, p.IsOptional && p.DefaultValue is not DBNull ? p.DefaultValue : null)!;
            var (convert, release) = ConverterFor(type);
            body.Add(Expression.Assign(locals[i], Expression.Call(convert, Expression.Call(ReadSlot, argv, Expression.Constant(i)), Expression.Constant(binding))));
            if (release is not null) releases.Add(Expression.Call(release, locals[i]));
        }
        Expression call = function is null
            ? Expression.Call(method, locals)
            : Expression.Invoke(Expression.Constant(function), locals);
        body.Add(method.ReturnType == typeof(void)
            ? Expression.Block(call, Expression.Call(NoneMethod))
            : arrayResultsAsNumpy && NumpyResult(method.ReturnType) is { } numpy
                ? Expression.Call(numpy, call)
                : Expression.Call(typeof(ResultConverter<>).MakeGenericType(method.ReturnType).GetMethod(nameof(ResultConverter<int>.ToPython))!, call));
        Expression block = Expression.Block(typeof(nint), body);
        if (releases.Count > 0)
        {
            // Released in reverse order, each even if an earlier release throws.
            releases.Reverse();
            Expression cleanup = releases[^1];
            for (int k = releases.Count - 2; k >= 0; k--) cleanup = Expression.TryFinally(releases[k], cleanup);
            block = Expression.TryFinally(block, cleanup);
        }
        var compiled = Expression.Lambda<CompiledBody>(Expression.Block(typeof(nint), locals, block), $"export {name}", [argv]).Compile();
        return new CompiledExport(name, parameters, compiled).Invoke;
    }

    /// <summary>The converter of a returned numeric array (rank 1 or 2) to a numpy array over its memory, or null for other types.</summary>
    private static MethodInfo? NumpyResult(Type type)
    {
        if (!type.IsArray || type.GetArrayRank() > 2 || ElementType.For(type.GetElementType()!) is null) return null;
        string helper = type.GetArrayRank() == 1 ? nameof(NumpyVector) : nameof(NumpyMatrix);
        return typeof(DelegateAdapter).GetMethod(helper, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.GetElementType()!);
    }

    private static nint NumpyVector<T>(T[] array) where T : unmanaged =>
        array is null ? None() : NewReference.FromPyObject(PyArray.From(array)).DangerousMoveToPointer();

    private static nint NumpyMatrix<T>(T[,] array) where T : unmanaged =>
        array is null ? None() : NewReference.FromPyObject(PyArray.From(array)).DangerousMoveToPointer();

    /// <summary>
    /// The static methods that convert an argument of <paramref name="type"/> and give it back after the call: direct
    /// ones for the hot types (float, PyBuffer, registered reference types such as Comm), else <see cref="ArgumentConverter{T}"/>.
    /// </summary>
    private static (MethodInfo Convert, MethodInfo? Release) ConverterFor(Type type)
    {
        const BindingFlags Static = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;
        if (type == typeof(double)) return (typeof(FastArguments).GetMethod(nameof(FastArguments.Double), Static)!, null);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(PyBuffer<>))
        {
            Type element = type.GetGenericArguments()[0];
            return (typeof(FastArguments).GetMethod(nameof(FastArguments.Buffer), Static)!.MakeGenericMethod(element),
                typeof(FastArguments).GetMethod(nameof(FastArguments.ReturnBuffer), Static)!.MakeGenericMethod(element));
        }
        if (!type.IsValueType && type != typeof(object) && type != typeof(string) && type != typeof(PyObject) && !type.IsArray)
            return (typeof(FastArguments).GetMethod(nameof(FastArguments.Registered), Static)!.MakeGenericMethod(type), null);
        Type converter = typeof(ArgumentConverter<>).MakeGenericType(type);
        bool needsRelease = (bool)converter.GetProperty(nameof(ArgumentConverter<int>.NeedsRelease))!.GetValue(null)!;
        return (converter.GetMethod(nameof(ArgumentConverter<int>.Convert))!,
            needsRelease ? converter.GetMethod(nameof(ArgumentConverter<int>.Release)) : null);
    }

    /// <summary>Binds positional and keyword arguments to parameter slots, then runs the compiled body.</summary>
    private sealed class CompiledExport(string name, ParameterInfo[] parameters, CompiledBody body)
    {
        private readonly string[] _names = parameters.Select(p => p.Name ?? "").ToArray();
        private readonly bool[] _optional = parameters.Select(p => p.IsOptional).ToArray();
        private readonly int _required = parameters.Count(p => !p.IsOptional);

        public NewReference Invoke(PyArguments args)
        {
            int n = _names.Length, count = args.Count;
            if (count > n)
                throw new ArgumentCountException($"{name}() takes at most {n} argument(s) ({count} given).");
            var argv = stackalloc BorrowedReference[n == 0 ? 1 : n];
            for (int i = 0; i < count; i++) argv[i] = args.At(i);
            for (int i = count; i < n; i++) argv[i] = BorrowedReference.Null;
            if (args.HasKeywords) BindKeywords(args, argv, count);
            for (int i = count; i < n; i++)
                if (argv[i].IsNull && !_optional[i])
                    throw new ArgumentCountException($"{name}() missing required argument '{_names[i]}' (takes {_required} to {n}).");
            return new NewReference(body((nint)argv));
        }

        private void BindKeywords(PyArguments args, BorrowedReference* argv, int count)
        {
            foreach (string keyword in args.KeywordNames())
            {
                int at = Array.IndexOf(_names, keyword);
                if (at < 0) throw new ArgumentCountException($"{name}() got an unexpected keyword argument '{keyword}'.");
                if (at < count) throw new ArgumentCountException($"{name}() got multiple values for argument '{keyword}'.");
                args.TryGetKeyword(keyword, out var value);
                argv[at] = value;
            }
        }
    }
}

/// <summary>The hot argument conversions, called straight from compiled exports (no delegate in between).</summary>
internal static unsafe class FastArguments
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the compiled export: a float argument costs two loads and a compare
    public static double Double(BorrowedReference o, ParameterBinding<double> binding)
    {
        if (!o.IsNull && CPython.Py_TYPE(o) == CPython.PyFloat_Type) return *(double*)(o.Address + 16); // PyFloat_AS_DOUBLE
        return ArgumentConverter<double>.Convert(o, binding);
    }

    public static PyBuffer<T> Buffer<T>(BorrowedReference o, ParameterBinding<PyBuffer<T>> binding) where T : unmanaged
    {
        if (o.IsNull) return binding.Default;
        try
        {
            return PyBuffer<T>.RentArgument(o);
        }
        catch (InvalidCastException e)
        {
            throw binding.Explain(e);
        }
    }

    public static void ReturnBuffer<T>(PyBuffer<T>? buffer) where T : unmanaged => buffer?.ReturnArgument();

    /// <summary>A reference type with a borrowed converter (<see cref="PyConverters.RegisterBorrowed{T}"/>), else the general way.</summary>
    public static T Registered<T>(BorrowedReference o, ParameterBinding<T> binding) where T : class
    {
        if (o.IsNull || PyConverters.Borrowed<T>.ToManaged is not { } convert) return ArgumentConverter<T>.Convert(o, binding);
        try
        {
            return convert(o);
        }
        catch (InvalidCastException e)
        {
            throw binding.Explain(e);
        }
    }
}

/// <summary>What a compiled export knows about one parameter: names for errors, and its default.</summary>
internal sealed class ParameterBinding<T>(string function, string name, int index, bool optional, object? defaultValue)
{
    public readonly string Function = function, Name = name;
    public readonly int Index = index;
    public readonly T Default = optional && defaultValue is not null ? (T)defaultValue : default!;

    public InvalidCastException Explain(InvalidCastException e) => new($"{Function}() argument '{Name}' (#{Index + 1}): {e.Message}", e);
}

/// <summary>
/// Python → <typeparamref name="T"/> for an exported function's argument (borrowed, under the GIL), chosen once per
/// type: int/float/bool without boxing, registered conversions (<see cref="PyConverters.RegisterBorrowed{T}"/>) without
/// wrapping the object, <see cref="PyBuffer{T}"/> reusing the previous call's view, anything else as <see cref="PyObject.As{T}"/>.
/// </summary>
internal static unsafe class ArgumentConverter<T>
{
    private static readonly Func<BorrowedReference, T> s_convert = Choose();
    private static readonly Action<T>? s_release = ChooseRelease();

    /// <summary>Whether a converted argument must be given back after the call (PyObject, PyBuffer, object).</summary>
    public static bool NeedsRelease => s_release is not null;

    public static T Convert(BorrowedReference o, ParameterBinding<T> binding)
    {
        if (o.IsNull) return binding.Default;
        try
        {
            return s_convert(o);
        }
        catch (InvalidCastException e)
        {
            throw binding.Explain(e);
        }
    }

    public static void Release(T value)
    {
        if (value is not null) s_release!(value);
    }

    private static Func<BorrowedReference, T> Choose()
    {
        Type t = typeof(T);
        if (t == typeof(double)) return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, double>(PyConvert.ToDoubleFast);
        if (t == typeof(float)) return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, float>(o => (float)PyConvert.ToDoubleFast(o));
        if (t == typeof(long)) return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, long>(PyConvert.ToInt64Fast);
        if (t == typeof(int)) return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, int>(PyConvert.ToInt32Fast);
        if (t == typeof(bool))
            return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, bool>(o =>
                o == CPython.Py_True || (o != CPython.Py_False && (bool)PyConvert.ToManaged(o, typeof(bool))!));
        if (t == typeof(PyObject)) return (Func<BorrowedReference, T>)(object)new Func<BorrowedReference, PyObject>(o => o.ToPyObject());
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(PyBuffer<>))
            return typeof(ArgumentConverter<T>).GetMethod(nameof(RentBuffer), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(t.GetGenericArguments()[0]).CreateDelegate<Func<BorrowedReference, T>>();
        if (!t.IsValueType && t != typeof(object) && t != typeof(string))
            return o => PyConverters.Borrowed<T>.ToManaged is { } registered
                ? registered(o)
                : (T)PyConvert.ToManaged(o, typeof(T))!;
        return o => (T)PyConvert.ToManaged(o, typeof(T))!;
    }

    private static Action<T>? ChooseRelease()
    {
        Type t = typeof(T);
        if (t == typeof(PyObject)) return v => ((PyObject)(object)v!).Dispose();
        if (t == typeof(object)) return v => (v as PyObject)?.Dispose(); // the natural form of an unknown object
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(PyBuffer<>))
            return typeof(ArgumentConverter<T>).GetMethod(nameof(ReturnBuffer), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(t.GetGenericArguments()[0]).CreateDelegate<Action<T>>();
        return null;
    }

    private static PyBuffer<TElement> RentBuffer<TElement>(BorrowedReference o) where TElement : unmanaged => PyBuffer<TElement>.RentArgument(o);
    private static void ReturnBuffer<TElement>(PyBuffer<TElement> buffer) where TElement : unmanaged => buffer.ReturnArgument();
}

/// <summary>
/// <typeparamref name="T"/> → a new Python reference, for an exported function's result; numbers without boxing. Returned
/// as a raw pointer for the compiled body (see <see cref="DelegateAdapter.CompiledBody"/>); never null (errors throw).
/// </summary>
internal static unsafe class ResultConverter<T>
{
    public static nint ToPython(T value)
    {
        if (typeof(T) == typeof(double)) return CPython.PyFloat_FromDouble((double)(object)value!).DangerousMoveToPointer();
        if (typeof(T) == typeof(float)) return CPython.PyFloat_FromDouble((float)(object)value!).DangerousMoveToPointer();
        if (typeof(T) == typeof(long)) return CPython.PyLong_FromLongLong((long)(object)value!).DangerousMoveToPointer();
        if (typeof(T) == typeof(int)) return CPython.PyLong_FromLongLong((int)(object)value!).DangerousMoveToPointer();
        if (typeof(T) == typeof(bool))
            return NewReference.FromBorrowed((bool)(object)value! ? CPython.Py_True : CPython.Py_False).DangerousMoveToPointer();
        // A PyObject the method returns stays the method's (it may be cached, or be an argument): Python gets a new reference.
        return PyConvert.ToPython(value).DangerousMoveToPointer();
    }
}
