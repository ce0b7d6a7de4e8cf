using Microsoft.Win32.SafeHandles;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// A large buffer copied once into a memory file, so that sending it to several engines on this host costs that one
/// copy: each engine gets the same descriptor and maps it privately (copy-on-write), as Python's <c>FdPart</c>. Over
/// TCP the source bytes are sent instead. Owned by whoever sends it; disposed once every send is done.
/// </summary>
internal sealed class SharedMemoryFile(FramePart source) : IDisposable
{
    private readonly Lock _gate = new();
    private SafeFileHandle? _file;

    /// <summary>The bytes it holds (sent as they are over TCP).</summary>
    public FramePart Source { get; } = source;

    /// <summary>The memory file, made (and filled) on first use.</summary>
    public SafeFileHandle File
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_file is { IsClosed: true }, this);
                return _file ??= Fill(Source.Span);
            }
        }
    }

    /// <summary>A new memory file holding <paramref name="bytes"/> (pwrite: the kernel fills its pages in bulk).</summary>
    public static SafeFileHandle Fill(ReadOnlySpan<byte> bytes)
    {
        var file = LocalTransport.CreateMemoryFile("pympi-buffer");
        try
        {
            RandomAccess.Write(file, bytes, 0);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}
