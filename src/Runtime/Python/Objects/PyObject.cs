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

    /// <summary>Takes ownership of a new reference (never null).</summary>
    internal PyObject(nint ownedReference)
    {
        _handle = ownedReference;
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
        if (GilState.IsHeld) CPython.Py_DecRef(handle);
        else PendingReleases.EnqueueDecRef(handle);
    }

    /// <summary>The object pointer, after checking the GIL and that this reference is alive.</summary>
    internal nint Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            GilState.ThrowIfNotHeld();
            nint handle = _handle;
            if (handle == 0) ThrowDisposed();
            return handle;
        }
    }

    /// <summary>The pointer without checks (for code that already holds the GIL and checked liveness).</summary>
    internal nint DangerousGetAddress() => _handle;

    /// <summary>Borrows the reference (valid while this object is alive and not disposed).</summary>
    public BorrowedReference Borrow() => new(Handle);

    /// <summary>Another owned reference to the same Python object (pyo3's <c>clone_ref</c>).</summary>
    public PyObject CloneRef()
    {
        nint handle = Handle;
        CPython.Py_IncRef(handle);
        return new PyObject(handle);
    }

    /// <summary>Gives the reference away (for a C-API call that steals it); this object becomes disposed.</summary>
    internal nint StealHandle()
    {
        nint handle = Handle;
        _handle = 0;
        GC.SuppressFinalize(this);
        return handle;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(PyObject), "This Python reference was disposed.");

    /// <summary>Wraps the result of a C-API call returning a new reference; throws the pending Python error for NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static PyObject Steal(nint newReference)
    {
        if (newReference == 0) throw PythonException.FetchCurrent();
        return new PyObject(newReference);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(int status)
    {
        if (status < 0) throw PythonException.FetchCurrent();
    }

    // ------------------------------------------------------------------ identity and type

    /// <summary>True for Python's <c>None</c>.</summary>
    public bool IsNone => Handle == CPython.Py_None;

    /// <summary><c>callable(obj)</c>.</summary>
    public bool IsCallable => CPython.PyCallable_Check(Handle) != 0;

    /// <summary>True when both refer to the same Python object (<c>a is b</c>).</summary>
    public bool Is(PyObject other) => Handle == other.Handle;

    /// <summary>The qualified Python type name, e.g. <c>int</c>, <c>numpy.ndarray</c>.</summary>
    public string TypeName => PythonException.QualifiedTypeName(CPython.Py_TYPE(Handle));

    /// <summary><c>type(obj)</c>.</summary>
    public PyObject GetPythonType() => Steal(CPython.PyObject_Type(Handle));

    /// <summary><c>isinstance(obj, type)</c>.</summary>
    public bool IsInstance(PyObject type)
    {
        int result = CPython.PyObject_IsInstance(Handle, type.Handle);
        Check(result);
        return result == 1;
    }

    /// <summary><c>bool(obj)</c>.</summary>
    public bool IsTrue()
    {
        int result = CPython.PyObject_IsTrue(Handle);
        Check(result);
        return result == 1;
    }

    /// <summary><c>a == b</c> in Python's sense.</summary>
    public bool PythonEquals(object? other)
    {
        nint self = Handle;
        nint o = PyConvert.ToPython(other);
        try
        {
            int result = CPython.PyObject_RichCompareBool(self, o, PyConst.Py_EQ);
            Check(result);
            return result == 1;
        }
        finally { CPython.Py_DecRef(o); }
    }

    /// <summary><c>hash(obj)</c>.</summary>
    public long PythonHash()
    {
        long hash = CPython.PyObject_Hash(Handle);
        if (hash == -1) ThrowIfError();
        return hash;
    }

    // ------------------------------------------------------------------ attributes

    /// <summary><c>getattr(obj, name)</c>; throws <see cref="PythonException"/> (AttributeError) when absent.</summary>
    public PyObject GetAttr(string name)
    {
        nint self = Handle;
        using var key = PyConvert.InternedString(name);
        return Steal(CPython.PyObject_GetAttr(self, key.DangerousGetAddress()));
    }

    /// <summary><c>getattr(obj, name, None)</c> as null when absent.</summary>
    public PyObject? GetAttrOrNull(string name)
    {
        nint self = Handle;
        using var key = PyConvert.InternedString(name);
        nint value = CPython.PyObject_GetAttr(self, key.DangerousGetAddress());
        if (value != 0) return new PyObject(value);
        if (CPython.PyErr_ExceptionMatches(CPython.PyExc_AttributeError) != 0) { CPython.PyErr_Clear(); return null; }
        throw PythonException.FetchCurrent();
    }

    /// <summary><c>hasattr(obj, name)</c>.</summary>
    public bool HasAttr(string name)
    {
        nint self = Handle;
        using var key = PyConvert.InternedString(name);
        return CPython.PyObject_HasAttr(self, key.DangerousGetAddress()) != 0;
    }

    /// <summary><c>setattr(obj, name, value)</c>; the value is converted with <see cref="From"/>.</summary>
    public void SetAttr(string name, object? value)
    {
        nint self = Handle;
        using var key = PyConvert.InternedString(name);
        nint v = PyConvert.ToPython(value);
        try { Check(CPython.PyObject_SetAttr(self, key.DangerousGetAddress(), v)); }
        finally { CPython.Py_DecRef(v); }
    }

    /// <summary><c>delattr(obj, name)</c>.</summary>
    public void DelAttr(string name)
    {
        nint self = Handle;
        using var key = PyConvert.InternedString(name);
        Check(CPython.PyObject_SetAttr(self, key.DangerousGetAddress(), 0));
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
        nint self = Handle;
        nint k = PyConvert.ToPython(key);
        try { return Steal(CPython.PyObject_GetItem(self, k)); }
        finally { CPython.Py_DecRef(k); }
    }

    /// <summary><c>obj[key] = value</c>; both converted with <see cref="From"/>.</summary>
    public void SetItem(object key, object? value)
    {
        nint self = Handle;
        nint k = PyConvert.ToPython(key);
        nint v = 0;
        try
        {
            v = PyConvert.ToPython(value);
            Check(CPython.PyObject_SetItem(self, k, v));
        }
        finally
        {
            CPython.Py_DecRef(k);
            if (v != 0) CPython.Py_DecRef(v);
        }
    }

    /// <summary><c>del obj[key]</c>.</summary>
    public void DelItem(object key)
    {
        nint self = Handle;
        nint k = PyConvert.ToPython(key);
        try { Check(CPython.PyObject_DelItem(self, k)); }
        finally { CPython.Py_DecRef(k); }
    }

    /// <summary><c>len(obj)</c>.</summary>
    public long Length
    {
        get
        {
            long length = CPython.PyObject_Size(Handle);
            if (length < 0) throw PythonException.FetchCurrent();
            return length;
        }
    }

    // ------------------------------------------------------------------ text

    /// <summary><c>repr(obj)</c>.</summary>
    public string Repr()
    {
        using var text = Steal(CPython.PyObject_Repr(Handle));
        return PyConvert.ToManagedString(text.DangerousGetAddress());
    }

    /// <summary><c>str(obj)</c>; for a disposed reference or without the GIL, a description instead of an exception.</summary>
    public override string ToString()
    {
        if (_handle == 0) return "<disposed PyObject>";
        if (!GilState.IsHeld) return "<PyObject: take the GIL to format it>";
        using var text = Steal(CPython.PyObject_Str(_handle));
        return PyConvert.ToManagedString(text.DangerousGetAddress());
    }

    // ------------------------------------------------------------------ iteration

    /// <summary>Iterates with Python's iterator protocol; each item is a new reference the caller owns.</summary>
    public IEnumerator<PyObject> GetEnumerator() => new PyIterator(Steal(CPython.PyObject_GetIter(Handle)));

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed class PyIterator(PyObject iterator) : IEnumerator<PyObject>
    {
        private PyObject? _current;

        public PyObject Current => _current ?? throw new InvalidOperationException("Enumeration has not started or has finished.");
        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            nint next = CPython.PyIter_Next(iterator.Handle);
            if (next != 0) { _current = new PyObject(next); return true; }
            _current = null;
            ThrowIfError();
            return false;
        }

        public void Reset() => throw new NotSupportedException("Python iterators cannot be reset.");
        public void Dispose() => iterator.Dispose();
    }

    internal static void ThrowIfError()
    {
        if (CPython.PyErr_Occurred() != 0) throw PythonException.FetchCurrent();
    }
}
