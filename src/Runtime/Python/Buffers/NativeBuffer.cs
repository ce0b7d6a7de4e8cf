using System.Runtime.InteropServices;

namespace PyMpiBridge.Python;

/// <summary>
/// Native (unmanaged, 64-byte aligned) memory for <paramref name="length"/> elements that never moves: share it with
/// numpy (<see cref="PyArray.From{T}(NativeBuffer{T}, ReadOnlySpan{long}, ReadOnlySpan{long})"/>) or MPI without
/// pinning. Disposing while Python still uses it is safe: the memory is freed when the last user lets go.
/// </summary>
public sealed unsafe class NativeBuffer<T> : IDisposable, IPinCounted where T : unmanaged
{
    private readonly T* _data;
    private int _users = 1; // the .NET owner plus one per Python export and one per pin of Memory
    private OwnedMemoryManager<T>? _memory;

    /// <summary>Allocates <paramref name="length"/> elements, zeroed unless <paramref name="zero"/> is false.</summary>
    public NativeBuffer(long length, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        nuint bytes = checked((nuint)length * (nuint)sizeof(T));
        _data = (T*)NativeMemory.AlignedAlloc(Math.Max(bytes, 1), 64);
        if (zero) NativeMemory.Clear(_data, bytes);
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>True once the owner disposed it (the memory may still be alive for Python).</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>The elements (at most int.MaxValue of them; use <see cref="Slice"/> beyond).</summary>
    public Span<T> Span => Slice(0, checked((int)Length));

    /// <summary>
    /// The elements as <see cref="Memory{T}"/> (at most int.MaxValue), for calls that use them after they return:
    /// <c>comm.Irecv(buffer.Memory, ...)</c> is zero-copy, and while the request is pending the buffer can be neither
    /// collected nor freed (a Dispose then frees the memory when the request completes).
    /// </summary>
    public Memory<T> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return (_memory ??= new OwnedMemoryManager<T>(this, (nint)_data, checked((int)Length))).Memory;
        }
    }

    void IPinCounted.ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    void IPinCounted.AddPin()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Interlocked.Increment(ref _users);
    }

    void IPinCounted.ReleasePin() => ReleaseUser();

    /// <summary><paramref name="length"/> elements from <paramref name="start"/>.</summary>
    public Span<T> Slice(long start, int length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if ((ulong)start > (ulong)Length || (ulong)length > (ulong)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + length}) is outside the buffer of {Length} elements.");
        return new Span<T>(_data + start, length);
    }

    internal nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return (nint)_data;
        }
    }

    /// <summary>One more user (a Python export); released through the returned owner.</summary>
    internal IPinOwner AddUser()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Interlocked.Increment(ref _users);
        return new Lease(this);
    }

    private sealed class Lease(NativeBuffer<T> buffer) : IPinOwner
    {
        public void Unpin() => buffer.ReleaseUser();
    }

    private void ReleaseUser()
    {
        if (Interlocked.Decrement(ref _users) == 0) NativeMemory.AlignedFree(_data);
    }

    /// <summary>Gives up the .NET side's use; the memory is freed now, or when Python releases its last view.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        GC.SuppressFinalize(this);
        ReleaseUser();
    }

    ~NativeBuffer()
    {
        if (!IsDisposed) { IsDisposed = true; ReleaseUser(); }
    }
}
