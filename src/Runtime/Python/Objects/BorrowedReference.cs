using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A reference to a Python object that someone else owns (a C-API "borrowed reference"): valid only while
/// the owner keeps the object alive, never decref'd. Use <see cref="ToPyObject"/> to take your own reference.
/// </summary>
public readonly unsafe struct BorrowedReference
{
    internal readonly nint Address;

    internal BorrowedReference(nint address) => Address = address;

    /// <summary>True for the C null pointer (no object).</summary>
    public bool IsNull => Address == 0;

    /// <summary>A new owned reference to the same object (increments its reference count).</summary>
    public PyObject ToPyObject()
    {
        GilState.ThrowIfNotHeld();
        if (Address == 0) throw new InvalidOperationException("Cannot take a reference to a null object.");
        CPython.Py_IncRef(Address);
        return new PyObject(Address);
    }
}
