using System.Collections;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>The payloads of apply tasks (PROTOCOL.md, kind 1): <c>[pickle(f), pickle((args, kwargs)), *buffers]</c>.</summary>
internal static class TaskPayloads
{
    public static List<FramePart> Apply(byte[] function, IReadOnlyList<object?> args)
    {
        var arguments = PickleWriter.Dumps(new PythonTuple(new PythonTuple([.. args]), new Dictionary<string, object?>()));
        var payload = new List<FramePart>(arguments.Count + 1) { function };
        payload.AddRange(arguments);
        return payload;
    }

    /// <summary>One task per (start, count): the chunk runner applied to that slice of every sequence.</summary>
    public static List<IReadOnlyList<FramePart>> MapChunks(byte[] chunkFunction, IList[] sequences, (int Start, int Count)[] chunks) =>
        chunks.Select(c => (IReadOnlyList<FramePart>)Apply(chunkFunction,
            sequences.Select(s => (object?)Sequences.Slice(s, c.Start, c.Count)).ToArray())).ToList();

    /// <summary>A typed sequence as the non-generic list the slicing reads (arrays and lists already are).</summary>
    public static IList AsList<T>(IList<T> items) => items as IList ?? items.ToList();

    /// <summary>A chunk's value (the list the runner returned) as its items.</summary>
    public static IReadOnlyList<T> ChunkItems<T>(object? value, string what) =>
        value is T[] same ? same
        : value is IList list
            ? list.Cast<object?>().Select((v, i) => ValueConversion.To<T>(v, $"{what}[{i}]")).ToList()
            : ValueConversion.To<T[]>(value, what);
}
