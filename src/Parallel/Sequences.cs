using System.Collections;
using PyMpiBridge.Parallel.Pickling;

namespace PyMpiBridge.Parallel;

/// <summary>How sequences are cut for scatter and map, as ipyparallel cuts them.</summary>
internal static class Sequences
{
    /// <summary>
    /// <paramref name="length"/> items in <paramref name="parts"/> contiguous blocks, the first <c>length % parts</c> one
    /// longer (ipyparallel's 'b' distribution): (start, count) of each.
    /// </summary>
    public static (int Start, int Count)[] Blocks(int length, int parts)
    {
        int q = length / parts, r = length % parts;
        var blocks = new (int, int)[parts];
        for (int i = 0, start = 0; i < parts; i++)
        {
            int count = q + (i < r ? 1 : 0);
            blocks[i] = (start, count);
            start += count;
        }
        return blocks;
    }

    /// <summary>Chunks of at most <paramref name="chunkSize"/> items: (start, count) of each.</summary>
    public static (int Start, int Count)[] Chunks(int length, int chunkSize)
    {
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "ChunkSize must be at least 1");
        var chunks = new (int, int)[(length + chunkSize - 1) / chunkSize];
        for (int i = 0; i < chunks.Length; i++) chunks[i] = (i * chunkSize, Math.Min(chunkSize, length - i * chunkSize));
        return chunks;
    }

    /// <summary>
    /// Items <paramref name="start"/>..+<paramref name="count"/> of <paramref name="sequence"/> as they travel: an array
    /// of primitive numbers as such an array (a numpy array on the engine), anything else as a list.
    /// </summary>
    public static object Slice(IList sequence, int start, int count)
    {
        if (sequence is Array array && array.Rank == 1 && NumpyDtype.CodeOf(array.GetType().GetElementType()!) is not null)
        {
            var part = Array.CreateInstance(array.GetType().GetElementType()!, count);
            Array.Copy(array, start, part, 0, count);
            return part;
        }
        var list = new List<object?>(count);
        for (int i = start; i < start + count; i++) list.Add(sequence[i]);
        return list;
    }

    /// <summary>The sequences of a map, each cut to the shortest (as <c>zip</c> does); at least one is required.</summary>
    public static int CommonLength(IList[] sequences)
    {
        if (sequences.Length == 0) throw new ArgumentException("map needs at least one sequence", nameof(sequences));
        foreach (var s in sequences) ArgumentNullException.ThrowIfNull(s, nameof(sequences));
        return sequences.Min(s => s.Count);
    }
}
