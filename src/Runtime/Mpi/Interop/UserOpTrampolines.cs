using System.Runtime.InteropServices;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Native entry points for user-defined reductions. <c>MPI_User_function(void* in, void* inout, int* len,
/// MPI_Datatype* type)</c> does not receive the op handle, so each op gets its own trampoline: a fixed
/// pool of <see cref="Capacity"/> <c>[UnmanagedCallersOnly]</c> functions, each bound to a slot that holds
/// the C# function. Exceptions cannot cross into MPI: they are caught and kept per slot, then rethrown by
/// the collective after it returns.
/// </summary>
internal static unsafe class UserOpTrampolines
{
    public const int Capacity = 16;

    public delegate void Callback(nint input, nint inout, int length);

    private static readonly Callback?[] s_callbacks = new Callback?[Capacity];
    private static readonly Exception?[] s_failures = new Exception?[Capacity];
    private static readonly Lock s_lock = new();

    public static int Rent(Callback callback)
    {
        lock (s_lock)
        {
            for (int i = 0; i < Capacity; i++)
            {
                if (s_callbacks[i] is not null) continue;
                s_callbacks[i] = callback;
                s_failures[i] = null;
                return i;
            }
        }
        throw new InvalidOperationException(
            $"At most {Capacity} user-defined operations can exist at once; Dispose the Op objects you no longer need.");
    }

    public static void Return(int slot)
    {
        lock (s_lock) s_callbacks[slot] = null;
    }

    public static Exception? TakeFailure(int slot) => Interlocked.Exchange(ref s_failures[slot], null);

    private static void Invoke(int slot, void* input, void* inout, int* length)
    {
        try
        {
            s_callbacks[slot]?.Invoke((nint)input, (nint)inout, *length);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_failures[slot], e, null);
        }
    }

    public static void* Pointer(int slot) => slot switch
    {
        0 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T0,
        1 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T1,
        2 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T2,
        3 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T3,
        4 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T4,
        5 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T5,
        6 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T6,
        7 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T7,
        8 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T8,
        9 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T9,
        10 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T10,
        11 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T11,
        12 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T12,
        13 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T13,
        14 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T14,
        15 => (delegate* unmanaged<void*, void*, int*, void*, void>)&T15,
        _ => throw new ArgumentOutOfRangeException(nameof(slot)),
    };

    // The datatype argument (4 bytes in MPICH, 8 in Open MPI) is not read: each op is bound to one T.
    [UnmanagedCallersOnly] private static void T0(void* a, void* b, int* n, void* t) => Invoke(0, a, b, n);
    [UnmanagedCallersOnly] private static void T1(void* a, void* b, int* n, void* t) => Invoke(1, a, b, n);
    [UnmanagedCallersOnly] private static void T2(void* a, void* b, int* n, void* t) => Invoke(2, a, b, n);
    [UnmanagedCallersOnly] private static void T3(void* a, void* b, int* n, void* t) => Invoke(3, a, b, n);
    [UnmanagedCallersOnly] private static void T4(void* a, void* b, int* n, void* t) => Invoke(4, a, b, n);
    [UnmanagedCallersOnly] private static void T5(void* a, void* b, int* n, void* t) => Invoke(5, a, b, n);
    [UnmanagedCallersOnly] private static void T6(void* a, void* b, int* n, void* t) => Invoke(6, a, b, n);
    [UnmanagedCallersOnly] private static void T7(void* a, void* b, int* n, void* t) => Invoke(7, a, b, n);
    [UnmanagedCallersOnly] private static void T8(void* a, void* b, int* n, void* t) => Invoke(8, a, b, n);
    [UnmanagedCallersOnly] private static void T9(void* a, void* b, int* n, void* t) => Invoke(9, a, b, n);
    [UnmanagedCallersOnly] private static void T10(void* a, void* b, int* n, void* t) => Invoke(10, a, b, n);
    [UnmanagedCallersOnly] private static void T11(void* a, void* b, int* n, void* t) => Invoke(11, a, b, n);
    [UnmanagedCallersOnly] private static void T12(void* a, void* b, int* n, void* t) => Invoke(12, a, b, n);
    [UnmanagedCallersOnly] private static void T13(void* a, void* b, int* n, void* t) => Invoke(13, a, b, n);
    [UnmanagedCallersOnly] private static void T14(void* a, void* b, int* n, void* t) => Invoke(14, a, b, n);
    [UnmanagedCallersOnly] private static void T15(void* a, void* b, int* n, void* t) => Invoke(15, a, b, n);
}
