using System.Collections;
using System.Runtime.CompilerServices;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// An owned reference to a Python object (pyo3's <c>Py&lt;T&gt;</c>, pythonnet's <c>PyObject</c>). Dispose it to
/// release the reference at once; a forgotten one is queued by the finalizer and released later under the GIL.
/// Every operation needs the GIL on the calling thread (<c>using var gil = Py.Gil();</c>) and says so when it
/// is missing. Also usable through <c>dynamic</c>: <c>np.arange(10).sum()</c>.
/// </summary>
public unsafe partial class PyObject : IDisposable, IEnumerable<PyObject>
{
    private nint _handle;

    /// <summary>Takes ownership of a reference given away to it (never null): <see cref="NewReference.MoveToPyObject"/>.</summary>
    internal PyObject(StolenReference reference)
    {
        _handle = reference.Address;
    }

    /// <summary>Releases the reference when the GIL is free to take later: queued, never decref'd without the GIL.</summary>
    ~PyObject()
    {
        nint handle = _handle;
        if (handle != 0) PendingReleases.EnqueueDecRef(handle);
    }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _handle == 0;

    /// <summary>
    /// Releases this reference: immediately when this thread holds the GIL, otherwise at the next GIL
    /// acquisition by any thread. Safe to call on any thread and more than once.
    /// </summary>
    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0) return;
        GC.SuppressFinalize(this);
        if (GilState.IsHeld) CPython.Py_DecRef(new StolenReference(handle));
        else PendingReleases.EnqueueDecRef(handle);
    }

    /// <summary>The object, borrowed from this reference, after checking the GIL and that this reference is alive.</summary>
    internal BorrowedReference Reference
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            GilState.ThrowIfNotHeld();
            nint handle = _handle;
            if (handle == 0) ThrowDisposed();
            return new BorrowedReference(handle);
        }
    }

    /// <summary>
    /// The object without checks, for identity kept beyond a GIL scope (a type compared by address later): the caller
    /// keeps this object alive as long as it uses the result.
    /// </summary>
    internal BorrowedReference DangerousBorrowUnchecked() => new(_handle);

    /// <summary>Borrows the reference (valid while this object is alive and not disposed).</summary>
    public BorrowedReference Borrow() => Reference;

    /// <summary>Another owned reference to the same Python object (pyo3's <c>clone_ref</c>).</summary>
    public PyObject CloneRef() => NewReference.FromBorrowed(Reference).MoveToPyObject();

    /// <summary>Gives the reference away (to a C-API call that steals it, or another owner); this object becomes disposed.</summary>
    internal StolenReference StealReference()
    {
        var reference = Reference;
        _handle = 0;
        GC.SuppressFinalize(this);
        return new StolenReference(reference.Address);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(PyObject), "This Python reference was disposed.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(int status)
    {
        if (status < 0) throw PythonException.FetchCurrent();
    }

    // ------------------------------------------------------------------ identity and type

    /// <summary>True for Python's <c>None</c>.</summary>
    public bool IsNone => Reference == CPython.Py_None;

    /// <summary><c>callable(obj)</c>.</summary>
    public bool IsCallable => CPython.PyCallable_Check(Reference) != 0;

    /// <summary>True when both refer to the same Python object (<c>a is b</c>).</summary>
    public bool Is(PyObject other) => Reference == other.Reference;

    /// <summary>The qualified Python type name, e.g. <c>int</c>, <c>numpy.ndarray</c>.</summary>
    public string TypeName => PythonException.QualifiedTypeName(CPython.Py_TYPE(Reference));

    /// <summary><c>type(obj)</c>.</summary>
    public PyObject GetPythonType() => CPython.PyObject_Type(Reference).MoveToPyObject();

    /// <summary><c>isinstance(obj, type)</c>.</summary>
    public bool IsInstance(PyObject type)
    {
        int result = CPython.PyObject_IsInstance(Reference, type.Reference);
        Check(result);
        return result == 1;
    }

    /// <summary><c>bool(obj)</c>.</summary>
    public bool IsTrue()
    {
        int result = CPython.PyObject_IsTrue(Reference);
        Check(result);
        return result == 1;
    }

    /// <summary><c>a == b</c> in Python's sense.</summary>
    public bool PythonEquals(object? other)
    {
        var self = Reference;
        using var o = PyConvert.ToPython(other);
        int result = CPython.PyObject_RichCompareBool(self, o.Borrow(), PyConst.Py_EQ);
        Check(result);
        return result == 1;
    }

    /// <summary><c>hash(obj)</c>.</summary>
    public long PythonHash()
    {
        long hash = CPython.PyObject_Hash(Reference);
        if (hash == -1) ThrowIfError();
        return hash;
    }

    // ------------------------------------------------------------------ attributes

    /// <summary><c>getattr(obj, name)</c>; throws <see cref="PythonException"/> (AttributeError) when absent.</summary>
    public PyObject GetAttr(string name)
    {
        var self = Reference;
        using var key = PyConvert.InternedString(name);
        return CPython.PyObject_GetAttr(self, key.Borrow()).MoveToPyObject();
    }

    /// <summary><c>getattr(obj, name, None)</c> as null when absent.</summary>
    public PyObject? GetAttrOrNull(string name)
    {
        var self = Reference;
        using var key = PyConvert.InternedString(name);
        var value = CPython.PyObject_GetAttr(self, key.Borrow());
        if (!value.IsNull) return value.MoveToPyObject();
        if (CPython.PyErr_ExceptionMatches(CPython.PyExc_AttributeError) != 0) { CPython.PyErr_Clear(); return null; }
        throw PythonException.FetchCurrent();
    }

    /// <summary><c>hasattr(obj, name)</c>.</summary>
    public bool HasAttr(string name)
    {
        var self = Reference;
        using var key = PyConvert.InternedString(name);
        return CPython.PyObject_HasAttr(self, key.Borrow()) != 0;
    }

    /// <summary><c>setattr(obj, name, value)</c>; the value is converted with <see cref="From"/>.</summary>
    public void SetAttr(string name, object? value)
    {
        var self = Reference;
        using var key = PyConvert.InternedString(name);
        using var v = PyConvert.ToPython(value);
        Check(CPython.PyObject_SetAttr(self, key.Borrow(), v.Borrow()));
    }

    /// <summary><c>delattr(obj, name)</c>.</summary>
    public void DelAttr(string name)
    {
        var self = Reference;
        using var key = PyConvert.InternedString(name);
        Check(CPython.PyObject_SetAttr(self, key.Borrow(), BorrowedReference.Null));
    }

    // ------------------------------------------------------------------ items

    /// <summary><c>obj[index]</c> (negative indexes count from the end, as in Python).</summary>
    public PyObject this[long index]
    {
        get => GetItem(index);
        set => SetItem(index, value);
    }

    /// <summary><c>obj[key]</c> for a string key (dicts, pandas-like mappings).</summary>
    public PyObject this[string key]
    {
        get => GetItem(key);
        set => SetItem(key, value);
    }

    /// <summary><c>obj[key]</c> for any Python key (a tuple for <c>a[i, j]</c>).</summary>
    public PyObject this[PyObject key]
    {
        get => GetItem(key);
        set => SetItem(key, value);
    }

    /// <summary><c>obj[key]</c>; the key is converted with <see cref="From"/>.</summary>
    public PyObject GetItem(object key)
    {
        var self = Reference;
        using var k = PyConvert.ToPython(key);
        return CPython.PyObject_GetItem(self, k.Borrow()).MoveToPyObject();
    }

    /// <summary><c>obj[key] = value</c>; both converted with <see cref="From"/>.</summary>
    public void SetItem(object key, object? value)
    {
        var self = Reference;
        using var k = PyConvert.ToPython(key);
        using var v = PyConvert.ToPython(value);
        Check(CPython.PyObject_SetItem(self, k.Borrow(), v.Borrow()));
    }

    /// <summary><c>del obj[key]</c>.</summary>
    public void DelItem(object key)
    {
        var self = Reference;
        using var k = PyConvert.ToPython(key);
        Check(CPython.PyObject_DelItem(self, k.Borrow()));
    }

    /// <summary><c>len(obj)</c>.</summary>
    public long Length
    {
        get
        {
            long length = CPython.PyObject_Size(Reference);
            if (length < 0) throw PythonException.FetchCurrent();
            return length;
        }
    }

    // ------------------------------------------------------------------ text

    /// <summary><c>repr(obj)</c>.</summary>
    public string Repr()
    {
        using var text = CPython.PyObject_Repr(Reference);
        text.ThrowIfNull();
        return PyConvert.ToManagedString(text.Borrow());
    }

    /// <summary><c>str(obj)</c>; for a disposed reference or without the GIL, a description instead of an exception.</summary>
    public override string ToString()
    {
        if (_handle == 0) return "<disposed PyObject>";
        if (!GilState.IsHeld) return "<PyObject: take the GIL to format it>";
        using var text = CPython.PyObject_Str(new BorrowedReference(_handle));
        text.ThrowIfNull();
        return PyConvert.ToManagedString(text.Borrow());
    }

    // ------------------------------------------------------------------ iteration

    /// <summary>Iterates with Python's iterator protocol; each item is a new reference the caller owns.</summary>
    public IEnumerator<PyObject> GetEnumerator() => new PyIterator(CPython.PyObject_GetIter(Reference).MoveToPyObject());

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed class PyIterator(PyObject iterator) : IEnumerator<PyObject>
    {
        private PyObject? _current;

        public PyObject Current => _current ?? throw new InvalidOperationException("Enumeration has not started or has finished.");
        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            var next = CPython.PyIter_Next(iterator.Reference);
            if (!next.IsNull) { _current = next.MoveToPyObject(); return true; }
            _current = null;
            ThrowIfError();
            return false;
        }

        public void Reset() => throw new NotSupportedException("Python iterators cannot be reset.");
        public void Dispose() => iterator.Dispose();
    }

    internal static void ThrowIfError()
    {
        if (!CPython.PyErr_Occurred().IsNull) throw PythonException.FetchCurrent();
    }
}
