using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A new (owned) reference as returned by C-API functions: must be given away exactly once
/// (<see cref="MoveToPyObject"/> or <see cref="Steal"/>), otherwise <see cref="Dispose"/> releases it.
/// A ref struct, so it can neither escape the stack frame nor be copied into a field by mistake.
/// </summary>
public unsafe ref struct NewReference
{
    private nint _address;

    internal NewReference(nint address) => _address = address;

    /// <summary>True when the C call failed (returned NULL, an exception is set) or the reference was moved.</summary>
    public readonly bool IsNull => _address == 0;

    /// <summary>Borrows the reference without giving it away.</summary>
    public readonly BorrowedReference Borrow() => new(_address);

    /// <summary>Transfers the reference into an owned <see cref="PyObject"/>; throws the pending Python error if null.</summary>
    public PyObject MoveToPyObject()
    {
        nint address = Steal();
        return new PyObject(address);
    }

    /// <summary>Takes the raw reference out; the caller is responsible for it. Throws the Python error when null.</summary>
    internal nint Steal()
    {
        nint address = _address;
        if (address == 0) throw PythonException.FetchCurrent();
        _address = 0;
        return address;
    }

    /// <summary>Releases the reference if it was not moved.</summary>
    public void Dispose()
    {
        if (_address != 0)
        {
            CPython.Py_DecRef(_address);
            _address = 0;
        }
    }
}
