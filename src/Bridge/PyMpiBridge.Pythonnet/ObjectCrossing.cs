using System.Collections.Concurrent;
using PyMpiBridge.Python;
using PN = Python.Runtime;

namespace PyMpiBridge.Pythonnet;

/// <summary>
/// The same Python object seen through either API, without copying and with each side owning its own reference:
/// <c>ours.ToPythonnet()</c>, <c>theirs.ToPyMpiBridge()</c>, and <c>theirs.GetPyBuffer&lt;double&gt;()</c> for a numpy
/// array pythonnet holds. Each call takes the GIL (nesting inside a scope of either API); dispose each side's reference
/// with that side's API as usual.
/// </summary>
public static class ObjectCrossing
{
    /// <summary>
    /// pythonnet makes its <c>PyObject</c> from a pointer only internally, so ours reach it through a one-element list per
    /// thread that both APIs hold: we store the object, pythonnet reads it (taking its own reference), we clear the slot.
    /// </summary>
    [ThreadStatic] private static Slot? t_slot;
    private static readonly ConcurrentBag<Slot> Slots = [];

    private sealed class Slot(PN.PyList theirs, PyObject ours)
    {
        public readonly PN.PyList Theirs = theirs;
        public readonly PyObject Ours = ours;
    }

    /// <summary>A pythonnet reference to the same Python object (its reference count goes up by one).</summary>
    public static PN.PyObject ToPythonnet(this PyObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        using var gil = Py.Gil();
        var slot = t_slot ??= NewSlot();
        slot.Ours.SetItem(0, obj);
        try { return slot.Theirs[0]; }
        finally { slot.Ours.SetItem(0, null); }
    }

    /// <summary>A PyMpiBridge reference to the same Python object (its reference count goes up by one).</summary>
    public static PyObject ToPyMpiBridge(this PN.PyObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
#pragma warning disable CS0612 // Handle is pythonnet's public (obsolete-marked) way to the object's address
        nint address = obj.Handle;
#pragma warning restore CS0612
        if (address == 0) throw new ObjectDisposedException(nameof(PN.PyObject), "This pythonnet reference was disposed.");
        using var gil = Py.Gil();
        return BorrowedReference.DangerousFromAddress(address).ToPyObject();
    }

    /// <summary>
    /// A typed view of the memory of a numpy array (or any buffer exporter) that pythonnet holds: the same bytes, no copy;
    /// the view keeps the array alive until disposed.
    /// </summary>
    public static PyBuffer<T> GetPyBuffer<T>(this PN.PyObject obj, bool writable = false) where T : unmanaged
    {
        using var gil = Py.Gil();
        using var ours = obj.ToPyMpiBridge();
        return ours.GetBuffer<T>(writable);
    }

    private static Slot NewSlot()
    {
        var theirs = new PN.PyList([PN.PyObject.None]);
        var slot = new Slot(theirs, theirs.ToPyMpiBridge());
        Slots.Add(slot);
        return slot;
    }

    /// <summary>
    /// Drops every thread's slot before pythonnet shuts down (Python is ending: our side's reference is let go with the
    /// interpreter). Caller is outside any GIL scope.
    /// </summary>
    internal static void ReleaseSlots()
    {
        using var gil = PN.Py.GIL();
        while (Slots.TryTake(out var slot))
        {
            slot.Ours.Dispose();
            slot.Theirs.Dispose();
        }
    }
}
