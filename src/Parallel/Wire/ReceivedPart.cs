using Microsoft.Win32.SafeHandles;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// One part of a received frame: bytes that came in the stream, or (Unix sockets) a memory file the sender passed as a
/// descriptor. A descriptor part is copied once, straight into wherever it is needed (<see cref="CopyTo"/>: a numpy
/// array's .NET array), or into <see cref="Bytes"/> when read as bytes; <see cref="Dispose"/> closes the descriptor.
/// </summary>
internal sealed class ReceivedPart : IDisposable
{
    private byte[]? _bytes;
    private SafeFileHandle? _file;

    public ReceivedPart(byte[] bytes)
    {
        _bytes = bytes;
        Length = bytes.LongLength;
    }

    private ReceivedPart(SafeFileHandle file, long length)
    {
        _file = file;
        Length = length;
    }

    /// <summary>A part passed as a memory file of at least <paramref name="length"/> bytes (owned from now on).</summary>
    public static ReceivedPart FromDescriptor(SafeFileHandle file, long length)
    {
        long size = RandomAccess.GetLength(file);
        if (size < length)
        {
            file.Dispose();
            throw new InvalidDataException($"a buffer descriptor of {size} bytes arrived for a part of {length} bytes");
        }
        if (length > Array.MaxLength)
        {
            file.Dispose();
            throw new InvalidDataException($"a frame part of {length} bytes is larger than a .NET array");
        }
        return new ReceivedPart(file, length);
    }

    public long Length { get; }

    /// <summary>Whether the part came as a memory file (not yet read).</summary>
    public bool IsDescriptor => _file is not null;

    /// <summary>The part's bytes (a descriptor part is read here, once).</summary>
    public byte[] Bytes
    {
        get
        {
            if (_bytes is not null) return _bytes;
            var bytes = GC.AllocateUninitializedArray<byte>((int)Length);
            PyMpiBridge.Runtime.Native.LargePages.Advise(bytes);
            CopyTo(bytes);
            _bytes = bytes;
            Close();
            return bytes;
        }
    }

    /// <summary>Copies the first <c>target.Length</c> bytes of the part into <paramref name="target"/>.</summary>
    public void CopyTo(Span<byte> target)
    {
        if (target.Length > Length) throw new ArgumentException($"the part has {Length} bytes, {target.Length} were asked for");
        if (_bytes is not null)
        {
            _bytes.AsSpan(0, target.Length).CopyTo(target);
            return;
        }
        var file = _file ?? throw new ObjectDisposedException(nameof(ReceivedPart));
        long offset = 0;
        while (offset < target.Length)
        {
            int read = RandomAccess.Read(file, target[(int)offset..], offset);
            if (read == 0) throw new InvalidDataException("a buffer descriptor ended before its part did");
            offset += read;
        }
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    public void Dispose() => Close();

    public static implicit operator ReceivedPart(byte[] bytes) => new(bytes);
}
