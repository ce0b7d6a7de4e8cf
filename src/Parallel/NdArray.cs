using System.Buffers;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A numpy array an engine sent back, with its data received without a copy when the engine runs on this host: the
/// engine's memory file is mapped into this process (as the Python client's <c>view.pull</c> maps it), so pulling 64 MiB
/// costs a system call, not a copy. Ask for it as the result type: <c>view.PullAsync&lt;NdArray&lt;double&gt;&gt;("a")</c>,
/// <c>ApplyAsync&lt;NdArray&lt;float&gt;&gt;(...)</c>; every numpy array of such a result arrives this way.
/// Data is row-major with <see cref="Shape"/>; writing to it changes only this process's copy of the pages written.
/// Dispose it (<c>using</c>) to unmap the memory; <see cref="Memory"/> keeps it alive, a <see cref="Span"/> does not.
/// Ask for <c>T[]</c> instead when the data must live in a .NET array (one copy, made while receiving).
/// </summary>
public sealed class NdArray<T> : IMemoryOwner<T> where T : unmanaged
{
    private readonly MemoryManager<T>? _mapped;
    private readonly Memory<T> _memory;
    private readonly int[] _shape;
    private int _disposed;

    /// <summary>Over memory mapped from an engine's memory file (owned from now on).</summary>
    internal NdArray(MemoryManager<T> mapped, int[] shape)
    {
        _mapped = mapped;
        _memory = mapped.Memory;
        _shape = shape;
    }

    /// <summary>Over a .NET array holding the data (a small array, or one that came over TCP).</summary>
    internal NdArray(T[] data, int[] shape)
    {
        _memory = data;
        _shape = shape;
    }

    /// <summary>The numpy shape (row-major; <c>[]</c> never occurs: 0-d arrays arrive as their value).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>How many dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>How many elements in all.</summary>
    public int Length => _memory.Length;

    /// <summary>Whether the data is the engine's memory file mapped here (no copy was made), rather than a .NET array.</summary>
    public bool IsMapped => _mapped is not null;

    /// <summary>The elements, row-major. Throws once disposed.</summary>
    public Memory<T> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _memory;
        }
    }

    /// <summary>The elements, row-major; valid while this is not disposed.</summary>
    public Span<T> Span => Memory.Span;

    /// <summary>The elements copied into a new one-dimensional .NET array (row-major).</summary>
    public T[] ToArray() => Memory.ToArray();

    /// <summary>Unmaps the memory (once nothing pins it); a .NET array behind it is left to the GC.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ((IDisposable?)_mapped)?.Dispose();
    }

    public override string ToString() =>
        $"NdArray<{typeof(T).Name}>({string.Join(", ", _shape)}){(IsMapped ? ", mapped" : "")}{(_disposed != 0 ? ", disposed" : "")}";
}

/// <summary>Whether a requested result type holds <see cref="NdArray{T}"/>s (its numpy arrays are then received as such).</summary>
internal static class NdArrayTypes
{
    public static bool Mentions(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(NdArray<>)) return true;
        if (type.IsArray) return Mentions(type.GetElementType()!);
        return type.IsGenericType && type.GetGenericArguments().Any(Mentions);
    }
}
