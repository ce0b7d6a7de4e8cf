using System.Collections.Concurrent;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// References (and buffer views) dropped where the GIL is not held — on the .NET finalizer thread, or by a
/// Dispose outside any GIL scope — wait here and are released the next time any thread enters or leaves a
/// GIL scope. Decref'ing without the GIL corrupts the interpreter; blocking the finalizer thread on the GIL
/// can deadlock the process (pythonnet's shutdown hangs), so we queue instead.
/// </summary>
internal static unsafe class PendingReleases
{
    private static readonly ConcurrentQueue<nint> References = new();
    private static readonly ConcurrentQueue<nint> Buffers = new();
    private static int _count;

    /// <summary>True when something waits; a single volatile read on the GIL fast path.</summary>
    public static bool Any => Volatile.Read(ref _count) != 0;

    /// <summary>Number waiting (diagnostics and tests).</summary>
    public static int Count => Volatile.Read(ref _count);

    /// <summary>Queues an owned reference kept as a raw pointer (a finalized <see cref="PyObject"/>'s, a view's array).</summary>
    public static void EnqueueDecRef(nint obj)
    {
        if (PythonEngine.IsShutDown) return; // the interpreter is gone: nothing to release, nothing to crash
        References.Enqueue(obj);
        Interlocked.Increment(ref _count);
    }

    /// <summary>Queues a <c>Py_buffer</c> allocated with NativeMemory: released then freed under the GIL.</summary>
    public static void EnqueueBufferRelease(Py_buffer* view)
    {
        if (PythonEngine.IsShutDown) return;
        Buffers.Enqueue((nint)view);
        Interlocked.Increment(ref _count);
    }

    /// <summary>Releases everything queued. Caller holds the GIL.</summary>
    public static void Drain()
    {
        while (Buffers.TryDequeue(out nint view))
        {
            Interlocked.Decrement(ref _count);
            CPython.PyBuffer_Release((Py_buffer*)view);
            System.Runtime.InteropServices.NativeMemory.Free((void*)view);
        }
        while (References.TryDequeue(out nint obj))
        {
            Interlocked.Decrement(ref _count);
            CPython.Py_DecRef(StolenReference.DangerousFromPointer(obj));
        }
    }
}
