namespace PyMpiBridge.Python;

/// <summary>
/// An owned reference on its way into a C function that steals it (<c>PyTuple_SetItem</c>, <c>PyList_SetItem</c>,
/// <c>PyErr_Restore</c>, <c>Py_DecRef</c>): made only by giving one away (<see cref="NewReference.Steal"/>,
/// <see cref="PyObject.StealReference"/>), so a borrowed reference cannot be stolen by mistake. A ref struct: it lives
/// for the call it is passed to.
/// </summary>
internal readonly ref struct StolenReference
{
    internal readonly nint Address;

    internal StolenReference(nint address) => Address = address;

    /// <summary>
    /// An owned reference kept as a raw pointer (a queue of references to release later, a field of a native
    /// structure), given away now.
    /// </summary>
    internal static StolenReference DangerousFromPointer(nint owned) => new(owned);
}
