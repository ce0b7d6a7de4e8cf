using System.Runtime.InteropServices;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// One part of a frame to send: bytes, the memory of a .NET array of a primitive type (any rank) sent straight from the
/// array without a copy, or a <see cref="SharedMemoryFile"/> (one memory file passed to every local engine).
/// </summary>
internal readonly struct FramePart
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Array? _array;
    private readonly int _arrayOffset;

    /// <summary>A large part already in a memory file shared by several sends (null otherwise).</summary>
    public SharedMemoryFile? Shared { get; }

    public FramePart(ReadOnlyMemory<byte> bytes)
    {
        _bytes = bytes;
        Length = bytes.Length;
    }

    public FramePart(Array array, int elementSize) : this(array, elementSize, 0, array.Length) { }

    /// <summary>Elements <paramref name="start"/>..+<paramref name="count"/> of a one-dimensional <paramref name="array"/>.</summary>
    public FramePart(Array array, int elementSize, int start, int count)
    {
        long length = (long)count * elementSize;
        if (length > int.MaxValue)
            throw new ArgumentException($"an array of {length} bytes is too large for one frame part (at most 2 GiB)");
        _array = array;
        _arrayOffset = start * elementSize;
        Length = (int)length;
    }

    public FramePart(SharedMemoryFile shared)
    {
        Shared = shared;
        _array = shared.Source._array;
        _arrayOffset = shared.Source._arrayOffset;
        _bytes = shared.Source._bytes;
        Length = shared.Source.Length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span =>
        _array is null ? _bytes.Span : MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(_array), _arrayOffset + Length)[_arrayOffset..];

    public static implicit operator FramePart(byte[] bytes) => new(bytes);
    public static implicit operator FramePart(ReadOnlyMemory<byte> bytes) => new(bytes);
}
