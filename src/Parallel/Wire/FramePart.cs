using System.Runtime.InteropServices;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// One part of a frame to send: bytes, or the memory of a .NET array of a primitive type (any rank), which is sent
/// straight from the array without a copy.
/// </summary>
internal readonly struct FramePart
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Array? _array;

    public FramePart(ReadOnlyMemory<byte> bytes)
    {
        _bytes = bytes;
        Length = bytes.Length;
    }

    public FramePart(Array array, int elementSize)
    {
        long length = (long)array.Length * elementSize;
        if (length > int.MaxValue)
            throw new ArgumentException($"an array of {length} bytes is too large for one frame part (at most 2 GiB)");
        _array = array;
        Length = (int)length;
    }

    public int Length { get; }

    /// <summary>True when the part is an array's memory (sent synchronously from a span, which cannot cross an await).</summary>
    public bool IsArray => _array is not null;

    public ReadOnlyMemory<byte> Memory => _array is null ? _bytes : throw new InvalidOperationException("an array part has no Memory");

    public ReadOnlySpan<byte> Span =>
        _array is null ? _bytes.Span : MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(_array), Length);

    public static implicit operator FramePart(byte[] bytes) => new(bytes);
    public static implicit operator FramePart(ReadOnlyMemory<byte> bytes) => new(bytes);
}
