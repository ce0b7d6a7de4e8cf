using System.Collections.Concurrent;

namespace PyMpiBridge.Parallel;

/// <summary>
/// How .NET types the client does not know cross to engines and back, registered by the assemblies that define them
/// (PyMpiBridge.DataFrames registers Microsoft.Data.Analysis DataFrame ↔ pandas). A push of a value pickles
/// <c>toEngine(value)</c> (typically a <see cref="PickleReduction"/>); a <c>PullAsync&lt;T&gt;(name)</c> calls the
/// function <c>pullFunction(name)</c> that <c>pullSource</c> defines on each engine and converts what it returns.
/// </summary>
public static class EngineConverters
{
    internal sealed record Converter(Func<object, object?> ToEngine, string PullSource, string PullFunction, Func<object?, object> FromEngine);

    private static readonly ConcurrentDictionary<Type, Converter> s_converters = new();

    /// <summary>Registers (or replaces) the conversions of <typeparamref name="T"/>.</summary>
    public static void Register<T>(Func<T, object?> toEngine, string pullSource, string pullFunction, Func<object?, T> fromEngine) where T : class
        => s_converters[typeof(T)] = new Converter(v => toEngine((T)v), pullSource, pullFunction, v => fromEngine(v));

    /// <summary>What to pickle for <paramref name="value"/>, if its type (or a base type) is registered.</summary>
    internal static bool TryToEngine(object value, out object? engineForm)
    {
        engineForm = null;
        if (s_converters.IsEmpty) return false;
        for (Type? type = value.GetType(); type is not null; type = type.BaseType)
            if (s_converters.TryGetValue(type, out var converter))
            {
                engineForm = converter.ToEngine(value);
                return true;
            }
        return false;
    }

    /// <summary>The converter pulls of <paramref name="type"/> go through, or null.</summary>
    internal static Converter? For(Type type) => s_converters.GetValueOrDefault(type);
}
