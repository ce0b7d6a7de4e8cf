using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Python.Interop;

/// <summary>
/// The CPython C API as function pointers resolved from the loaded libpython (one place for every
/// native signature we use). Fields are <c>static readonly</c>, so once this class is initialized the
/// JIT treats each pointer as a constant and a call costs what a C call costs.
/// Touch this class only after <see cref="PythonLibrary.Load"/> succeeded.
/// </summary>
/// <remarks>
/// Ownership is in the signatures, as CPython documents it: a function returning a new reference returns a
/// <see cref="NewReference"/> (the caller must dispose it or move it on), one returning a borrowed reference a
/// <see cref="BorrowedReference"/>; object arguments are borrowed, except those a function steals (tuple/list
/// <c>SetItem</c>, <c>PyErr_Restore</c>, <c>Py_DecRef</c>), which take a <see cref="StolenReference"/>. All three are
/// one pointer wide, so a call costs what the raw C call costs. <c>nint</c> is <c>Py_ssize_t</c> or a non-object pointer.
/// <c>SuppressGCTransition</c> is used only on functions that never run Python code, never allocate
/// GC-tracked objects (which could trigger a collection and finalizers that call back into .NET) and never block.
/// </remarks>
internal static unsafe class CPython
{
    private static nint Required(string name) => Libdl.RequiredSymbol(PythonLibrary.Handle, name, PythonLibrary.Name);
    private static nint Optional(string name) => Libdl.Symbol(PythonLibrary.Handle, name);
    /// <summary>Value of a <c>PyObject*</c> global variable such as <c>PyExc_ValueError</c>.</summary>
    private static nint DataPointer(string name) => *(nint*)Required(name);

    // ---- lifetime and threads
    public static readonly delegate* unmanaged<int> Py_IsInitialized = (delegate* unmanaged<int>)Required("Py_IsInitialized");
    public static readonly delegate* unmanaged<int, void> Py_InitializeEx = (delegate* unmanaged<int, void>)Required("Py_InitializeEx");
    public static readonly delegate* unmanaged<int> Py_FinalizeEx = (delegate* unmanaged<int>)Required("Py_FinalizeEx");
    /// <summary>A C string owned by Python (not an object).</summary>
    public static readonly delegate* unmanaged<nint> Py_GetVersion = (delegate* unmanaged<nint>)Required("Py_GetVersion");
    /// <summary>Returns and takes a <c>PyThreadState*</c> (not an object).</summary>
    public static readonly delegate* unmanaged<nint> PyEval_SaveThread = (delegate* unmanaged<nint>)Required("PyEval_SaveThread");
    public static readonly delegate* unmanaged<nint, void> PyEval_RestoreThread = (delegate* unmanaged<nint, void>)Required("PyEval_RestoreThread");
    public static readonly delegate* unmanaged<int> PyGILState_Ensure = (delegate* unmanaged<int>)Required("PyGILState_Ensure");
    public static readonly delegate* unmanaged<int, void> PyGILState_Release = (delegate* unmanaged<int, void>)Required("PyGILState_Release");
    /// <summary>1 when this thread holds the GIL, however it took it (another embedding such as pythonnet included).</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<int> PyGILState_Check = (delegate* unmanaged[SuppressGCTransition]<int>)Required("PyGILState_Check");

    // ---- references (exported functions, not the macros: valid for immortal objects too)
    /// <summary>Makes a borrowed reference one more owned reference (see <see cref="NewReference.FromBorrowed"/>).</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, void> Py_IncRef = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, void>)Required("Py_IncRef");
    /// <summary>Gives an owned reference back (<see cref="NewReference.Dispose"/>, <see cref="PyObject.Dispose"/>).</summary>
    public static readonly delegate* unmanaged<StolenReference, void> Py_DecRef = (delegate* unmanaged<StolenReference, void>)Required("Py_DecRef");

    // ---- errors
    /// <summary>The type of the pending exception (borrowed), or null.</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference> PyErr_Occurred = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference>)Required("PyErr_Occurred");
    public static readonly delegate* unmanaged<out NewReference, out NewReference, out NewReference, void> PyErr_Fetch = (delegate* unmanaged<out NewReference, out NewReference, out NewReference, void>)Required("PyErr_Fetch");
    public static readonly delegate* unmanaged<ref NewReference, ref NewReference, ref NewReference, void> PyErr_NormalizeException = (delegate* unmanaged<ref NewReference, ref NewReference, ref NewReference, void>)Required("PyErr_NormalizeException");
    /// <summary>Steals all three (each may be null).</summary>
    public static readonly delegate* unmanaged<StolenReference, StolenReference, StolenReference, void> PyErr_Restore = (delegate* unmanaged<StolenReference, StolenReference, StolenReference, void>)Required("PyErr_Restore");
    /// <summary>3.12+ only; null on 3.11.</summary>
    public static readonly delegate* unmanaged<NewReference> PyErr_GetRaisedException = (delegate* unmanaged<NewReference>)Optional("PyErr_GetRaisedException");
    public static readonly delegate* unmanaged<StolenReference, void> PyErr_SetRaisedException = (delegate* unmanaged<StolenReference, void>)Optional("PyErr_SetRaisedException");
    public static readonly delegate* unmanaged<BorrowedReference, byte*, void> PyErr_SetString = (delegate* unmanaged<BorrowedReference, byte*, void>)Required("PyErr_SetString");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, void> PyErr_SetObject = (delegate* unmanaged<BorrowedReference, BorrowedReference, void>)Required("PyErr_SetObject");
    public static readonly delegate* unmanaged<void> PyErr_Clear = (delegate* unmanaged<void>)Required("PyErr_Clear");
    public static readonly delegate* unmanaged<BorrowedReference, int> PyErr_ExceptionMatches = (delegate* unmanaged<BorrowedReference, int>)Required("PyErr_ExceptionMatches");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PyException_SetTraceback = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PyException_SetTraceback");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyException_GetTraceback = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyException_GetTraceback");

    // ---- generic objects
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_Type = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_Type");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyObject_GetAttr = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyObject_GetAttr");
    /// <summary>A null value deletes the attribute.</summary>
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int> PyObject_SetAttr = (delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int>)Required("PyObject_SetAttr");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PyObject_HasAttr = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PyObject_HasAttr");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyObject_GetItem = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyObject_GetItem");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int> PyObject_SetItem = (delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int>)Required("PyObject_SetItem");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PyObject_DelItem = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PyObject_DelItem");
    public static readonly delegate* unmanaged<BorrowedReference, nint> PyObject_Size = (delegate* unmanaged<BorrowedReference, nint>)Required("PyObject_Size");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_Repr = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_Repr");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_Str = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_Str");
    public static readonly delegate* unmanaged<BorrowedReference, int> PyObject_IsTrue = (delegate* unmanaged<BorrowedReference, int>)Required("PyObject_IsTrue");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PyObject_IsInstance = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PyObject_IsInstance");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int, NewReference> PyObject_RichCompare = (delegate* unmanaged<BorrowedReference, BorrowedReference, int, NewReference>)Required("PyObject_RichCompare");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int, int> PyObject_RichCompareBool = (delegate* unmanaged<BorrowedReference, BorrowedReference, int, int>)Required("PyObject_RichCompareBool");
    public static readonly delegate* unmanaged<BorrowedReference, nint> PyObject_Hash = (delegate* unmanaged<BorrowedReference, nint>)Required("PyObject_Hash");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_GetIter = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_GetIter");
    /// <summary>Null both at the end (no error set) and on an error.</summary>
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyIter_Next = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyIter_Next");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_Dir = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_Dir");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, int> PyCallable_Check = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, int>)Required("PyCallable_Check");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, ulong> PyType_GetFlags = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, ulong>)Required("PyType_GetFlags");

    // ---- calls
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyObject_CallNoArgs = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyObject_CallNoArgs");
    /// <summary>The arguments are borrowed; with PY_VECTORCALL_ARGUMENTS_OFFSET the slot before them is the callee's.</summary>
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference*, nuint, BorrowedReference, NewReference> PyObject_Vectorcall = (delegate* unmanaged<BorrowedReference, BorrowedReference*, nuint, BorrowedReference, NewReference>)Required("PyObject_Vectorcall");

    // ---- numbers
    public static readonly delegate* unmanaged[SuppressGCTransition]<long, NewReference> PyLong_FromLongLong = (delegate* unmanaged[SuppressGCTransition]<long, NewReference>)Required("PyLong_FromLongLong");
    public static readonly delegate* unmanaged[SuppressGCTransition]<ulong, NewReference> PyLong_FromUnsignedLongLong = (delegate* unmanaged[SuppressGCTransition]<ulong, NewReference>)Required("PyLong_FromUnsignedLongLong");
    public static readonly delegate* unmanaged<BorrowedReference, int*, long> PyLong_AsLongLongAndOverflow = (delegate* unmanaged<BorrowedReference, int*, long>)Required("PyLong_AsLongLongAndOverflow");
    public static readonly delegate* unmanaged<byte*, byte**, int, NewReference> PyLong_FromString = (delegate* unmanaged<byte*, byte**, int, NewReference>)Required("PyLong_FromString");
    public static readonly delegate* unmanaged<BorrowedReference, int, NewReference> PyNumber_ToBase = (delegate* unmanaged<BorrowedReference, int, NewReference>)Required("PyNumber_ToBase");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyNumber_Index = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyNumber_Index");
    public static readonly delegate* unmanaged<BorrowedReference, int> PyIndex_Check = (delegate* unmanaged<BorrowedReference, int>)Required("PyIndex_Check");
    public static readonly delegate* unmanaged[SuppressGCTransition]<double, NewReference> PyFloat_FromDouble = (delegate* unmanaged[SuppressGCTransition]<double, NewReference>)Required("PyFloat_FromDouble");
    public static readonly delegate* unmanaged<BorrowedReference, double> PyFloat_AsDouble = (delegate* unmanaged<BorrowedReference, double>)Required("PyFloat_AsDouble");
    public static readonly delegate* unmanaged[SuppressGCTransition]<double, double, NewReference> PyComplex_FromDoubles = (delegate* unmanaged[SuppressGCTransition]<double, double, NewReference>)Required("PyComplex_FromDoubles");
    public static readonly delegate* unmanaged<BorrowedReference, double> PyComplex_RealAsDouble = (delegate* unmanaged<BorrowedReference, double>)Required("PyComplex_RealAsDouble");
    public static readonly delegate* unmanaged<BorrowedReference, double> PyComplex_ImagAsDouble = (delegate* unmanaged<BorrowedReference, double>)Required("PyComplex_ImagAsDouble");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Add = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Add");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Subtract = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Subtract");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Multiply = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Multiply");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_TrueDivide = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_TrueDivide");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Remainder = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Remainder");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_And = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_And");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Or = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Or");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Xor = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Xor");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Lshift = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Lshift");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference> PyNumber_Rshift = (delegate* unmanaged<BorrowedReference, BorrowedReference, NewReference>)Required("PyNumber_Rshift");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyNumber_Negative = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyNumber_Negative");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyNumber_Positive = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyNumber_Positive");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyNumber_Invert = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyNumber_Invert");

    // ---- strings and bytes
    public static readonly delegate* unmanaged<byte*, nint, byte*, int*, NewReference> PyUnicode_DecodeUTF16 = (delegate* unmanaged<byte*, nint, byte*, int*, NewReference>)Required("PyUnicode_DecodeUTF16");
    public static readonly delegate* unmanaged<byte*, NewReference> PyUnicode_InternFromString = (delegate* unmanaged<byte*, NewReference>)Required("PyUnicode_InternFromString");
    /// <summary>UTF-8 owned by the str (valid while it lives).</summary>
    public static readonly delegate* unmanaged<BorrowedReference, nint*, byte*> PyUnicode_AsUTF8AndSize = (delegate* unmanaged<BorrowedReference, nint*, byte*>)Required("PyUnicode_AsUTF8AndSize");
    public static readonly delegate* unmanaged<byte*, nint, NewReference> PyBytes_FromStringAndSize = (delegate* unmanaged<byte*, nint, NewReference>)Required("PyBytes_FromStringAndSize");
    public static readonly delegate* unmanaged<BorrowedReference, byte**, nint*, int> PyBytes_AsStringAndSize = (delegate* unmanaged<BorrowedReference, byte**, nint*, int>)Required("PyBytes_AsStringAndSize");

    // ---- containers (SetItem of tuples and lists steals the item, even when it fails)
    public static readonly delegate* unmanaged<nint, NewReference> PyTuple_New = (delegate* unmanaged<nint, NewReference>)Required("PyTuple_New");
    public static readonly delegate* unmanaged<BorrowedReference, nint, StolenReference, int> PyTuple_SetItem = (delegate* unmanaged<BorrowedReference, nint, StolenReference, int>)Required("PyTuple_SetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint, BorrowedReference> PyTuple_GetItem = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint, BorrowedReference>)Required("PyTuple_GetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint> PyTuple_Size = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint>)Required("PyTuple_Size");
    public static readonly delegate* unmanaged<nint, NewReference> PyList_New = (delegate* unmanaged<nint, NewReference>)Required("PyList_New");
    public static readonly delegate* unmanaged<BorrowedReference, nint, StolenReference, int> PyList_SetItem = (delegate* unmanaged<BorrowedReference, nint, StolenReference, int>)Required("PyList_SetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint, BorrowedReference> PyList_GetItem = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint, BorrowedReference>)Required("PyList_GetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint> PyList_Size = (delegate* unmanaged[SuppressGCTransition]<BorrowedReference, nint>)Required("PyList_Size");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PyList_Append = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PyList_Append");
    public static readonly delegate* unmanaged<NewReference> PyDict_New = (delegate* unmanaged<NewReference>)Required("PyDict_New");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int> PyDict_SetItem = (delegate* unmanaged<BorrowedReference, BorrowedReference, BorrowedReference, int>)Required("PyDict_SetItem");
    public static readonly delegate* unmanaged<BorrowedReference, byte*, BorrowedReference, int> PyDict_SetItemString = (delegate* unmanaged<BorrowedReference, byte*, BorrowedReference, int>)Required("PyDict_SetItemString");
    /// <summary>The value, borrowed, or null when the key is absent (errors are swallowed: use it on plain dicts with str keys).</summary>
    public static readonly delegate* unmanaged<BorrowedReference, byte*, BorrowedReference> PyDict_GetItemString = (delegate* unmanaged<BorrowedReference, byte*, BorrowedReference>)Required("PyDict_GetItemString");
    /// <summary>Key and value come out borrowed.</summary>
    public static readonly delegate* unmanaged<BorrowedReference, nint*, BorrowedReference*, BorrowedReference*, int> PyDict_Next = (delegate* unmanaged<BorrowedReference, nint*, BorrowedReference*, BorrowedReference*, int>)Required("PyDict_Next");
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PyMapping_Items = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PyMapping_Items");
    /// <summary>A null iterable makes an empty set.</summary>
    public static readonly delegate* unmanaged<BorrowedReference, NewReference> PySet_New = (delegate* unmanaged<BorrowedReference, NewReference>)Required("PySet_New");
    public static readonly delegate* unmanaged<BorrowedReference, BorrowedReference, int> PySet_Add = (delegate* unmanaged<BorrowedReference, BorrowedReference, int>)Required("PySet_Add");

    // ---- modules, code, interpreter state
    public static readonly delegate* unmanaged<byte*, NewReference> PyImport_ImportModule = (delegate* unmanaged<byte*, NewReference>)Required("PyImport_ImportModule");
    public static readonly delegate* unmanaged<BorrowedReference> PyImport_GetModuleDict = (delegate* unmanaged<BorrowedReference>)Required("PyImport_GetModuleDict");
    public static readonly delegate* unmanaged<byte*, NewReference> PyModule_New = (delegate* unmanaged<byte*, NewReference>)Required("PyModule_New");
    public static readonly delegate* unmanaged<BorrowedReference> PyEval_GetBuiltins = (delegate* unmanaged<BorrowedReference>)Required("PyEval_GetBuiltins");
    public static readonly delegate* unmanaged<byte*, int, BorrowedReference, BorrowedReference, nint, NewReference> PyRun_StringFlags = (delegate* unmanaged<byte*, int, BorrowedReference, BorrowedReference, nint, NewReference>)Required("PyRun_StringFlags");

    // ---- types, buffers, builtin functions
    public static readonly delegate* unmanaged<PyType_Spec*, NewReference> PyType_FromSpec = (delegate* unmanaged<PyType_Spec*, NewReference>)Required("PyType_FromSpec");
    /// <summary>A slot's function pointer (not an object).</summary>
    public static readonly delegate* unmanaged<BorrowedReference, int, nint> PyType_GetSlot = (delegate* unmanaged<BorrowedReference, int, nint>)Required("PyType_GetSlot");
    public static readonly delegate* unmanaged<BorrowedReference, nint, NewReference> PyType_GenericAlloc = (delegate* unmanaged<BorrowedReference, nint, NewReference>)Required("PyType_GenericAlloc");
    public static readonly delegate* unmanaged<BorrowedReference, Py_buffer*, int, int> PyObject_GetBuffer = (delegate* unmanaged<BorrowedReference, Py_buffer*, int, int>)Required("PyObject_GetBuffer");
    public static readonly delegate* unmanaged<BorrowedReference, int> PyObject_CheckBuffer = (delegate* unmanaged<BorrowedReference, int>)Required("PyObject_CheckBuffer");
    public static readonly delegate* unmanaged<Py_buffer*, void> PyBuffer_Release = (delegate* unmanaged<Py_buffer*, void>)Required("PyBuffer_Release");
    public static readonly delegate* unmanaged<PyMethodDef*, BorrowedReference, BorrowedReference, NewReference> PyCFunction_NewEx = (delegate* unmanaged<PyMethodDef*, BorrowedReference, BorrowedReference, NewReference>)Required("PyCFunction_NewEx");

    // ---- singletons, types and exception types: objects that live as long as the interpreter, so borrowed forever
    // (data symbols: dlsym gives the address of a static object, or of a PyObject* variable for PyExc_*)
    public static readonly BorrowedReference Py_None = new(Required("_Py_NoneStruct"));
    public static readonly BorrowedReference Py_True = new(Required("_Py_TrueStruct"));
    public static readonly BorrowedReference Py_False = new(Required("_Py_FalseStruct"));
    public static readonly BorrowedReference PyLong_Type = new(Required("PyLong_Type"));
    public static readonly BorrowedReference PyBool_Type = new(Required("PyBool_Type"));
    public static readonly BorrowedReference PyFloat_Type = new(Required("PyFloat_Type"));
    public static readonly BorrowedReference PyComplex_Type = new(Required("PyComplex_Type"));
    public static readonly BorrowedReference PySet_Type = new(Required("PySet_Type"));
    public static readonly BorrowedReference PyFrozenSet_Type = new(Required("PyFrozenSet_Type"));

    public static readonly BorrowedReference PyExc_RuntimeError = new(DataPointer("PyExc_RuntimeError"));
    public static readonly BorrowedReference PyExc_ValueError = new(DataPointer("PyExc_ValueError"));
    public static readonly BorrowedReference PyExc_TypeError = new(DataPointer("PyExc_TypeError"));
    public static readonly BorrowedReference PyExc_KeyError = new(DataPointer("PyExc_KeyError"));
    public static readonly BorrowedReference PyExc_IndexError = new(DataPointer("PyExc_IndexError"));
    public static readonly BorrowedReference PyExc_OverflowError = new(DataPointer("PyExc_OverflowError"));
    public static readonly BorrowedReference PyExc_ZeroDivisionError = new(DataPointer("PyExc_ZeroDivisionError"));
    public static readonly BorrowedReference PyExc_NotImplementedError = new(DataPointer("PyExc_NotImplementedError"));
    public static readonly BorrowedReference PyExc_MemoryError = new(DataPointer("PyExc_MemoryError"));
    public static readonly BorrowedReference PyExc_OSError = new(DataPointer("PyExc_OSError"));
    public static readonly BorrowedReference PyExc_FileNotFoundError = new(DataPointer("PyExc_FileNotFoundError"));
    public static readonly BorrowedReference PyExc_PermissionError = new(DataPointer("PyExc_PermissionError"));
    public static readonly BorrowedReference PyExc_TimeoutError = new(DataPointer("PyExc_TimeoutError"));
    public static readonly BorrowedReference PyExc_BufferError = new(DataPointer("PyExc_BufferError"));
    public static readonly BorrowedReference PyExc_AttributeError = new(DataPointer("PyExc_AttributeError"));

    /// <summary><c>Py_TYPE(o)</c>: the object's type, borrowed (the object holds a reference to it).</summary>
    public static BorrowedReference Py_TYPE(BorrowedReference o) => new(*(nint*)(o.Address + PyConst.ObTypeOffset));

    /// <summary>True when <paramref name="o"/>'s type has <paramref name="flag"/> (the <c>PyXxx_Check</c> macros).</summary>
    public static bool HasTypeFlag(BorrowedReference o, ulong flag) => (PyType_GetFlags(Py_TYPE(o)) & flag) != 0;
}
