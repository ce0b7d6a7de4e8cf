using System.Buffers;
using System.Runtime.InteropServices;

namespace PyMpiBridge.Python;

/// <summary>
/// Native memory for data copied into new numpy arrays (e.g. DataFrame columns handed to pandas), reused once numpy lets
/// go of it. Why: the first write to freshly mapped memory costs a page fault per 4 KiB, and on virtual machines that is
/// far more than the copy itself (measured here: 64 MiB copied in 5 ms into memory written before, 340 ms into fresh
/// memory), so conversions that repeat (every step of a loop, every message) copy at memcpy speed. Share a block with
/// <see cref="PyArray.From{T}(Memory{T}, ReadOnlySpan{long})"/>: its pin is released when the last numpy array over it
/// is gone, and that returns the block. At most <see cref="MaxIdleBytes"/> stay idle; the oldest idle blocks are freed first.
/// </summary>
public static unsafe class NativeMemoryPool
{
    /// <summary>Idle memory kept for reuse, at most.</summary>
    public const long MaxIdleBytes = 256L << 20;

    private static readonly Lock Gate = new();
    private static readonly List<(nint Address, long Bytes)> s_idle = [];
    private static long s_idleBytes;

    /// <summary>
    /// Memory for <paramref name="length"/> elements (not zeroed), returned to the pool at its last unpin, or by Dispose
    /// when it was never pinned.
    /// </summary>
    public static MemoryManager<T> Rent<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * sizeof(T);
        nint address = 0;
        long size = 0;
        lock (Gate)
        {
            // The smallest idle block that fits without wasting more than half of it.
            int best = -1;
            for (int i = 0; i < s_idle.Count; i++)
                if (s_idle[i].Bytes >= bytes && s_idle[i].Bytes <= 2 * Math.Max(bytes, 4096) && (best < 0 || s_idle[i].Bytes < s_idle[best].Bytes))
                    best = i;
            if (best >= 0)
            {
                (address, size) = s_idle[best];
                s_idle.RemoveAt(best);
                s_idleBytes -= size;
            }
        }
        if (address == 0)
        {
            size = Math.Max(bytes, 1);
            address = (nint)NativeMemory.AlignedAlloc((nuint)size, 64);
        }
        return new Block<T>(address, size, length);
    }

    /// <summary>Idle bytes now held (for tests and diagnostics).</summary>
    public static long IdleBytes { get { lock (Gate) return s_idleBytes; } }

    private static void Return(nint address, long bytes)
    {
        lock (Gate)
        {
            if (bytes <= MaxIdleBytes)
            {
                // Make room by freeing the oldest idle blocks.
                while (s_idleBytes + bytes > MaxIdleBytes && s_idle.Count > 0)
                {
                    NativeMemory.AlignedFree((void*)s_idle[0].Address);
                    s_idleBytes -= s_idle[0].Bytes;
                    s_idle.RemoveAt(0);
                }
                s_idle.Add((address, bytes));
                s_idleBytes += bytes;
                return;
            }
        }
        NativeMemory.AlignedFree((void*)address);
    }

    /// <summary>One rented block: pinned once by the numpy export, returned to the pool at the last unpin.</summary>
    private sealed class Block<T>(nint address, long bytes, int length) : MemoryManager<T> where T : unmanaged
    {
        private int _pins;
        private bool _returned;

        public override Span<T> GetSpan()
        {
            ObjectDisposedException.ThrowIf(_returned, this);
            return new Span<T>((void*)address, length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if ((uint)elementIndex > (uint)length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
            lock (this)
            {
                ObjectDisposedException.ThrowIf(_returned, this);
                _pins++;
            }
            return new MemoryHandle((T*)address + elementIndex, default, this);
        }

        public override void Unpin()
        {
            lock (this)
            {
                if (--_pins > 0 || _returned) return;
                _returned = true;
            }
            Return(address, bytes);
        }

        /// <summary>Never pinned (the numpy export failed): the memory goes back at once.</summary>
        protected override void Dispose(bool disposing)
        {
            lock (this)
            {
                if (_pins > 0 || _returned) return;
                _returned = true;
            }
            Return(address, bytes);
        }
    }
}
