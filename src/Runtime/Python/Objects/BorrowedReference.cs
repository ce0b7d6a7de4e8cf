using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A reference to a Python object that someone else owns (a C-API "borrowed reference"): valid only while the owner
/// keeps the object alive, never released. Use <see cref="ToPyObject"/> to take a reference of your own. A plain
/// struct, not a ref struct, so compiled export code (expression trees) and converters (<c>Func</c>) can pass it.
/// </summary>
public readonly unsafe struct BorrowedReference : IEquatable<BorrowedReference>
{
    internal readonly nint Address;

    internal BorrowedReference(nint address) => Address = address;

    /// <summary>No object (the C null pointer), for arguments that accept one.</summary>
    internal static BorrowedReference Null => default;

    /// <summary>The object's type (<c>Py_TYPE</c>), borrowed.</summary>
    internal BorrowedReference Type => CPython.Py_TYPE(this);

    /// <summary>
    /// A pointer-sized field of an extension object at <paramref name="offset"/> bytes (e.g. mpi4py's <c>ob_mpi</c>).
    /// Only for layouts verified at start-up by the caller.
    /// </summary>
    internal nint ReadPointerField(int offset) => *(nint*)(Address + offset);

    /// <summary>A 32-bit field of an extension object at <paramref name="offset"/> bytes (see <see cref="ReadPointerField"/>).</summary>
    internal uint ReadUInt32Field(int offset) => *(uint*)(Address + offset);

    /// <summary>
    /// A borrowed reference to the object at <paramref name="address"/>, handed over by another embedding of this same
    /// interpreter (pythonnet's <c>PyObject.Handle</c>, a C extension). The caller guarantees the object stays alive
    /// while the reference is used; take your own with <see cref="ToPyObject"/>.
    /// </summary>
    public static BorrowedReference DangerousFromAddress(nint address) => new(address);

    /// <summary>The object's address, for another embedding of this same interpreter; no reference is transferred.</summary>
    public nint DangerousGetAddress() => Address;

    /// <summary>True for the C null pointer (no object).</summary>
    public bool IsNull => Address == 0;

    /// <summary>A new owned reference to the same object (increments its reference count).</summary>
    public PyObject ToPyObject()
    {
        GilState.ThrowIfNotHeld();
        if (Address == 0) throw new InvalidOperationException("Cannot take a reference to a null object.");
        return NewReference.FromBorrowed(this).MoveToPyObject();
    }

    /// <summary>Identity: the same Python object (<c>a is b</c>).</summary>
    public static bool operator ==(BorrowedReference a, BorrowedReference b) => a.Address == b.Address;

    /// <summary>Not the same Python object.</summary>
    public static bool operator !=(BorrowedReference a, BorrowedReference b) => a.Address != b.Address;

    /// <inheritdoc/>
    public bool Equals(BorrowedReference other) => Address == other.Address;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BorrowedReference other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Address.GetHashCode();
}
