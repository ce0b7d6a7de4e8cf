using System.Buffers;
using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// A memory file (memfd) mapped privately into this process, as <see cref="Memory{T}"/>: reading it costs no copy (pages
/// are mapped as they are first touched), writing copies only the pages written (copy-on-write: the file, which other
/// processes may map too, never changes). This is how numpy arrays received from a local engine are handed out without
/// copying, as the Python client's <c>mmap</c> does. <see cref="IDisposable.Dispose"/> unmaps it once no
/// <see cref="Pin"/> is outstanding; spans taken from it must not outlive it.
/// </summary>
internal sealed unsafe class MappedMemory<T> : MemoryManager<T> where T : unmanaged
{
    private readonly Mapping _mapping;
    private readonly int _length;
    private int _disposed;

    private MappedMemory(Mapping mapping, int length)
    {
        _mapping = mapping;
        _length = length;
    }

    /// <summary>
    /// Maps the first <paramref name="length"/> elements of <paramref name="file"/> (which must hold that many bytes);
    /// the descriptor may be closed afterwards, the mapping stays.
    /// </summary>
    public static MappedMemory<T> MapPrivate(SafeFileHandle file, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        nuint bytes = (nuint)length * (nuint)sizeof(T);
        if (bytes == 0) return new MappedMemory<T>(new Mapping(0, 0), 0);
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            nint address = Libc.Mmap(0, bytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE, (int)file.DangerousGetHandle(), 0);
            if (address == Libc.MAP_FAILED)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new Win32Exception(errno, $"mapping a memory file of {bytes} bytes failed: {new Win32Exception(errno).Message}");
            }
            return new MappedMemory<T>(new Mapping(address, bytes), length);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>Whether it has been disposed (its memory is, or will be once unpinned, unmapped).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public override Span<T> GetSpan()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new Span<T>((void*)_mapping.DangerousGetHandle(), _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        bool added = false;
        _mapping.DangerousAddRef(ref added); // throws ObjectDisposedException once disposed
        return new MemoryHandle((T*)_mapping.DangerousGetHandle() + elementIndex, default, this);
    }

    public override void Unpin() => _mapping.DangerousRelease();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _mapping.Dispose();
    }

    /// <summary>The mapping as an owned handle: unmapped when disposed and no pin holds it, or when finalized.</summary>
    private sealed class Mapping : SafeHandle
    {
        private readonly nuint _bytes;

        public Mapping(nint address, nuint bytes) : base(0, ownsHandle: true)
        {
            _bytes = bytes;
            SetHandle(address);
        }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle() => Libc.Munmap(handle, _bytes) == 0;
    }
}
