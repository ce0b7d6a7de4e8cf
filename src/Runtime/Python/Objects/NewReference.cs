using System.Runtime.CompilerServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A new (owned) reference, as C-API functions that return one give it (pythonnet's <c>NewReference</c>, pyo3's
/// <c>Bound</c>): it must be given away exactly once — to a <see cref="PyObject"/> (<see cref="MoveToPyObject"/>), to a
/// C function that steals it (<see cref="Steal"/>), or to C code that takes it (<see cref="DangerousMoveToPointer"/>) —
/// otherwise <see cref="Dispose"/> releases it: <c>using var r = CPython.PyObject_Str(o);</c>. A ref struct, so it
/// cannot escape the stack frame or land in a field by mistake; moving it clears it, so a later Dispose does nothing.
/// Null when the C call failed (a Python error is then set).
/// </summary>
public unsafe ref struct NewReference
{
    private nint _address;

    internal NewReference(nint address) => _address = address;

    /// <summary>Another owned reference to a borrowed object (increments its reference count).</summary>
    internal static NewReference FromBorrowed(BorrowedReference borrowed)
    {
        CPython.Py_IncRef(borrowed);
        return new NewReference(borrowed.Address);
    }

    /// <summary>Takes the reference out of <paramref name="owner"/>, which becomes disposed.</summary>
    internal static NewReference FromPyObject(PyObject owner) => new(owner.StealReference().Address);

    /// <summary>
    /// Hands the reference on (to the caller, typically, of a method that built it in a <c>using</c>): this one becomes
    /// null, so its Dispose releases nothing. Throws the pending Python error if null.
    /// </summary>
    internal NewReference Move() => new(Steal().Address);

    /// <summary>True when the C call failed (returned NULL, an exception is set) or the reference was moved.</summary>
    public readonly bool IsNull => _address == 0;

    /// <summary>Borrows the reference without giving it away (valid while this one is held).</summary>
    public readonly BorrowedReference Borrow() => new(_address);

    /// <summary>Transfers the reference into an owned <see cref="PyObject"/>; throws the pending Python error if null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PyObject MoveToPyObject() => new(Steal());

    /// <summary>Gives the reference to a C function that steals it; throws the pending Python error if null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal StolenReference Steal()
    {
        nint address = _address;
        if (address == 0) ThrowPending();
        _address = 0;
        return new StolenReference(address);
    }

    /// <summary>Gives the reference, null or not, to a C function that steals it and accepts null (<c>PyErr_Restore</c>).</summary>
    internal StolenReference StealNullable()
    {
        nint address = _address;
        _address = 0;
        return new StolenReference(address);
    }

    /// <summary>
    /// Gives the reference to C code as a raw pointer (a result returned to Python, a slot of an argument array);
    /// from then on that code owns it. Throws the pending Python error if null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint DangerousMoveToPointer() => Steal().Address;

    /// <summary>Throws the pending Python error when the call that made this reference failed (it is null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly void ThrowIfNull()
    {
        if (_address == 0) ThrowPending();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPending() => throw PythonException.FetchCurrent();

    /// <summary>Releases the reference if it was not moved.</summary>
    public void Dispose()
    {
        nint address = _address;
        if (address != 0)
        {
            _address = 0;
            CPython.Py_DecRef(new StolenReference(address));
        }
    }
}
