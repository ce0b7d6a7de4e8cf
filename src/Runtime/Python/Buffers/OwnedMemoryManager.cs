using System.Buffers;

namespace PyMpiBridge.Python;

/// <summary>
/// Memory that an owner object (a <see cref="NativeBuffer{T}"/>, a <see cref="PyBuffer{T}"/>) keeps valid, exposed as
/// <see cref="Memory{T}"/> for APIs that hold on to memory past the call (MPI's Isend/Irecv, async I/O). Every
/// <see cref="Memory{T}"/> and every pin refers to this manager, and the manager to its owner: while MPI holds a
/// pin, the owner cannot be collected, so its finalizer cannot free the memory under MPI. Each pin is also counted
/// by the owner (<see cref="IPinCounted.AddPin"/>): disposing the owner while pinned defers the release to the last
/// unpin.
/// </summary>
internal sealed unsafe class OwnedMemoryManager<T>(IPinCounted owner, nint data, int length) : MemoryManager<T> where T : unmanaged
{
    public override Span<T> GetSpan()
    {
        owner.ThrowIfDisposed();
        return new Span<T>((void*)data, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        owner.AddPin(); // throws if disposed
        return new MemoryHandle((T*)data + elementIndex, default, this);
    }

    public override void Unpin() => owner.ReleasePin();

    protected override void Dispose(bool disposing) { }
}

/// <summary>An owner of memory that counts pins and releases the memory only after the last one.</summary>
internal interface IPinCounted
{
    void ThrowIfDisposed();
    void AddPin();
    void ReleasePin();
}
