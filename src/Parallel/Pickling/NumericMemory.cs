using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>
/// <see cref="Memory{T}"/>, <see cref="ReadOnlyMemory{T}"/> and <see cref="ArraySegment{T}"/> of a numpy element type as
/// the array range they cover, so they are sent from that memory like arrays (memory not backed by an array, from a
/// custom <c>MemoryManager</c>, is copied into one first).
/// </summary>
internal static class NumericMemory
{
    public readonly record struct Range(Array Array, int Offset, int Count);

    private static readonly ConcurrentDictionary<Type, Func<object, Range>?> Readers = new();

    public static bool TryGet(object value, out Range range)
    {
        var reader = Readers.GetOrAdd(value.GetType(), ReaderFor);
        range = reader?.Invoke(value) ?? default;
        return reader is not null;
    }

    private static Func<object, Range>? ReaderFor(Type type)
    {
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        if (definition != typeof(Memory<>) && definition != typeof(ReadOnlyMemory<>) && definition != typeof(ArraySegment<>)) return null;
        Type element = type.GetGenericArguments()[0];
        if (NumpyDtype.CodeOf(element) is null) return null;
        return typeof(NumericMemory).GetMethod(nameof(Read), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(element).CreateDelegate<Func<object, Range>>();
    }

    private static Range Read<T>(object value)
    {
        ReadOnlyMemory<T> memory = value switch
        {
            Memory<T> m => m,
            ReadOnlyMemory<T> r => r,
            ArraySegment<T> s => s,
            _ => throw new ArgumentException($"not a memory of {typeof(T).Name}: {value.GetType()}"),
        };
        if (MemoryMarshal.TryGetArray(memory, out var segment)) return new Range(segment.Array!, segment.Offset, segment.Count);
        T[] copy = memory.ToArray();
        return new Range(copy, 0, copy.Length);
    }
}
