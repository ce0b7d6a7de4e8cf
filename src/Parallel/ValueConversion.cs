using System.Collections;
using System.Numerics;
using PyMpiBridge.Parallel.Pickling;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Turns what the pickle reader built (long, double, string, byte[], List of object, object[], Dictionary of object,
/// .NET arrays) into the type the caller asked for, or says clearly why it cannot.
/// </summary>
internal static class ValueConversion
{
    public static T To<T>(object? value, string what) => (T)To(value, typeof(T), what)!;

    public static object? To(object? value, Type type, string what)
    {
        if (type == typeof(object) || (value is not null && type.IsInstanceOfType(value))) return value;
        if (value is null)
        {
            if (!type.IsValueType || Nullable.GetUnderlyingType(type) is not null) return null;
            throw new InvalidCastException($"{what} is None, which is not a {type.Name}");
        }
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (IsNdArray(target)) throw NotThisNdArray(value, target, what);
        if (target.IsArray && target.GetArrayRank() == 1)
        {
            Type element = target.GetElementType()!;
            if (value is Array array && array.GetType().GetElementType() is { } have && NumpyDtype.CodeOf(have) is { } code)
                throw new InvalidCastException(
                    $"{what} is a numpy {code} array of rank {array.Rank} ({have.Name}{Brackets(array.Rank)} here), " +
                    $"not {element.Name}[]: ask for {have.Name}{Brackets(array.Rank)}, or convert it on the engine");
            if (value is IList list)
            {
                var result = Array.CreateInstance(element, list.Count);
                for (int i = 0; i < list.Count; i++) result.SetValue(To(list[i], element, $"{what}[{i}]"), i);
                return result;
            }
        }
        if (target.IsGenericType && target.GetGenericArguments() is [var keyType, var valueType] && keyType == typeof(string)
            && value is IDictionary source && typeof(IDictionary).IsAssignableFrom(typeof(Dictionary<,>).MakeGenericType(keyType, valueType))
            && target.IsAssignableFrom(typeof(Dictionary<,>).MakeGenericType(keyType, valueType)))
        {
            var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(keyType, valueType))!;
            foreach (DictionaryEntry e in source)
                dict[e.Key as string ?? throw new InvalidCastException($"{what} has a key {e.Key} that is not a string")] =
                    To(e.Value, valueType, $"{what}[{e.Key}]");
            return dict;
        }
        if (value is BigInteger big && target.IsPrimitive)
            throw new OverflowException($"{what} is {big}, which does not fit a {target.Name}");
        if (value is IConvertible && (target.IsPrimitive || target == typeof(decimal)) && target != typeof(char))
        {
            if (value is string) throw new InvalidCastException($"{what} is a str, not a {target.Name}");
            if (value is double && target != typeof(double) && target != typeof(float) && target != typeof(decimal))
                throw new InvalidCastException($"{what} is a float ({value}), not a {target.Name}");
            return Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new InvalidCastException($"{what} is {PythonName(value)}, which cannot become a {type.Name}");
    }

    private static bool IsNdArray(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(NdArray<>);

    /// <summary>An NdArray was asked for and <paramref name="value"/> is not one of that element type (a mapped one is unmapped now).</summary>
    private static InvalidCastException NotThisNdArray(object value, Type target, string what)
    {
        string wanted = $"NdArray<{target.GetGenericArguments()[0].Name}>";
        if (!IsNdArray(value.GetType()))
            return new InvalidCastException($"{what} is {PythonName(value)}, not a numpy array, so it cannot become an {wanted}");
        ((IDisposable)value).Dispose();
        string have = value.GetType().GetGenericArguments()[0].Name;
        return new InvalidCastException($"{what} is a numpy {NumpyDtype.CodeOf(value.GetType().GetGenericArguments()[0])} array " +
                                        $"(NdArray<{have}> here), not {wanted}: ask for NdArray<{have}>, or convert it on the engine");
    }

    private static string Brackets(int rank) => "[" + new string(',', rank - 1) + "]";

    /// <summary>The Python type a reader value came from, for messages.</summary>
    public static string PythonName(object? value) => value switch
    {
        null => "None",
        bool => "a bool",
        long or BigInteger => "an int",
        double => "a float",
        string => "a str",
        byte[] => "bytes",
        List<object?> => "a list",
        object?[] => "a tuple",
        IDictionary => "a dict",
        Array a => $"a numpy array of {a.GetType().GetElementType()!.Name}",
        _ when IsNdArray(value.GetType()) => $"a numpy array of {value.GetType().GetGenericArguments()[0].Name}",
        _ => $"a {value.GetType().Name}",
    };
}
