using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Python.Interop;

/// <summary>
/// The CPython C API as function pointers resolved from the loaded libpython (one place for every
/// native signature we use). Fields are <c>static readonly</c>, so once this class is initialized the
/// JIT treats each pointer as a constant and a call costs what a C call costs.
/// Touch this class only after <see cref="PythonLibrary.Load"/> succeeded.
/// </summary>
/// <remarks>
/// Conventions: <c>nint</c> is <c>PyObject*</c> or <c>Py_ssize_t</c>; functions returning a new reference
/// say so in their C documentation, we wrap them in <see cref="NewReference"/> at the call site.
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
    public static readonly delegate* unmanaged<nint> Py_GetVersion = (delegate* unmanaged<nint>)Required("Py_GetVersion");
    public static readonly delegate* unmanaged<nint> PyEval_SaveThread = (delegate* unmanaged<nint>)Required("PyEval_SaveThread");
    public static readonly delegate* unmanaged<nint, void> PyEval_RestoreThread = (delegate* unmanaged<nint, void>)Required("PyEval_RestoreThread");
    public static readonly delegate* unmanaged<int> PyGILState_Ensure = (delegate* unmanaged<int>)Required("PyGILState_Ensure");
    public static readonly delegate* unmanaged<int, void> PyGILState_Release = (delegate* unmanaged<int, void>)Required("PyGILState_Release");
    public static readonly delegate* unmanaged[SuppressGCTransition]<int> PyGILState_Check = (delegate* unmanaged[SuppressGCTransition]<int>)Required("PyGILState_Check");

    // ---- references (exported functions, not the macros: valid for immortal objects too)
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, void> Py_IncRef = (delegate* unmanaged[SuppressGCTransition]<nint, void>)Required("Py_IncRef");
    public static readonly delegate* unmanaged<nint, void> Py_DecRef = (delegate* unmanaged<nint, void>)Required("Py_DecRef");

    // ---- errors
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint> PyErr_Occurred = (delegate* unmanaged[SuppressGCTransition]<nint>)Required("PyErr_Occurred");
    public static readonly delegate* unmanaged<nint*, nint*, nint*, void> PyErr_Fetch = (delegate* unmanaged<nint*, nint*, nint*, void>)Required("PyErr_Fetch");
    public static readonly delegate* unmanaged<nint*, nint*, nint*, void> PyErr_NormalizeException = (delegate* unmanaged<nint*, nint*, nint*, void>)Required("PyErr_NormalizeException");
    public static readonly delegate* unmanaged<nint, nint, nint, void> PyErr_Restore = (delegate* unmanaged<nint, nint, nint, void>)Required("PyErr_Restore");
    /// <summary>3.12+ only; null on 3.11.</summary>
    public static readonly delegate* unmanaged<nint> PyErr_GetRaisedException = (delegate* unmanaged<nint>)Optional("PyErr_GetRaisedException");
    public static readonly delegate* unmanaged<nint, void> PyErr_SetRaisedException = (delegate* unmanaged<nint, void>)Optional("PyErr_SetRaisedException");
    public static readonly delegate* unmanaged<nint, byte*, void> PyErr_SetString = (delegate* unmanaged<nint, byte*, void>)Required("PyErr_SetString");
    public static readonly delegate* unmanaged<nint, nint, void> PyErr_SetObject = (delegate* unmanaged<nint, nint, void>)Required("PyErr_SetObject");
    public static readonly delegate* unmanaged<void> PyErr_Clear = (delegate* unmanaged<void>)Required("PyErr_Clear");
    public static readonly delegate* unmanaged<nint, int> PyErr_ExceptionMatches = (delegate* unmanaged<nint, int>)Required("PyErr_ExceptionMatches");
    public static readonly delegate* unmanaged<nint, nint, int> PyException_SetTraceback = (delegate* unmanaged<nint, nint, int>)Required("PyException_SetTraceback");
    public static readonly delegate* unmanaged<nint, nint> PyException_GetTraceback = (delegate* unmanaged<nint, nint>)Required("PyException_GetTraceback");

    // ---- generic objects
    public static readonly delegate* unmanaged<nint, nint> PyObject_Type = (delegate* unmanaged<nint, nint>)Required("PyObject_Type");
    public static readonly delegate* unmanaged<nint, byte*, nint> PyObject_GetAttrString = (delegate* unmanaged<nint, byte*, nint>)Required("PyObject_GetAttrString");
    public static readonly delegate* unmanaged<nint, nint, nint> PyObject_GetAttr = (delegate* unmanaged<nint, nint, nint>)Required("PyObject_GetAttr");
    public static readonly delegate* unmanaged<nint, nint, nint, int> PyObject_SetAttr = (delegate* unmanaged<nint, nint, nint, int>)Required("PyObject_SetAttr");
    public static readonly delegate* unmanaged<nint, nint, int> PyObject_HasAttr = (delegate* unmanaged<nint, nint, int>)Required("PyObject_HasAttr");
    public static readonly delegate* unmanaged<nint, nint, nint> PyObject_GetItem = (delegate* unmanaged<nint, nint, nint>)Required("PyObject_GetItem");
    public static readonly delegate* unmanaged<nint, nint, nint, int> PyObject_SetItem = (delegate* unmanaged<nint, nint, nint, int>)Required("PyObject_SetItem");
    public static readonly delegate* unmanaged<nint, nint, int> PyObject_DelItem = (delegate* unmanaged<nint, nint, int>)Required("PyObject_DelItem");
    public static readonly delegate* unmanaged<nint, nint> PyObject_Size = (delegate* unmanaged<nint, nint>)Required("PyObject_Size");
    public static readonly delegate* unmanaged<nint, nint> PyObject_Repr = (delegate* unmanaged<nint, nint>)Required("PyObject_Repr");
    public static readonly delegate* unmanaged<nint, nint> PyObject_Str = (delegate* unmanaged<nint, nint>)Required("PyObject_Str");
    public static readonly delegate* unmanaged<nint, int> PyObject_IsTrue = (delegate* unmanaged<nint, int>)Required("PyObject_IsTrue");
    public static readonly delegate* unmanaged<nint, nint, int> PyObject_IsInstance = (delegate* unmanaged<nint, nint, int>)Required("PyObject_IsInstance");
    public static readonly delegate* unmanaged<nint, nint, int, nint> PyObject_RichCompare = (delegate* unmanaged<nint, nint, int, nint>)Required("PyObject_RichCompare");
    public static readonly delegate* unmanaged<nint, nint, int, int> PyObject_RichCompareBool = (delegate* unmanaged<nint, nint, int, int>)Required("PyObject_RichCompareBool");
    public static readonly delegate* unmanaged<nint, nint> PyObject_Hash = (delegate* unmanaged<nint, nint>)Required("PyObject_Hash");
    public static readonly delegate* unmanaged<nint, nint> PyObject_GetIter = (delegate* unmanaged<nint, nint>)Required("PyObject_GetIter");
    public static readonly delegate* unmanaged<nint, nint> PyIter_Next = (delegate* unmanaged<nint, nint>)Required("PyIter_Next");
    public static readonly delegate* unmanaged<nint, nint> PyObject_Dir = (delegate* unmanaged<nint, nint>)Required("PyObject_Dir");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, int> PyCallable_Check = (delegate* unmanaged[SuppressGCTransition]<nint, int>)Required("PyCallable_Check");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, ulong> PyType_GetFlags = (delegate* unmanaged[SuppressGCTransition]<nint, ulong>)Required("PyType_GetFlags");
    public static readonly delegate* unmanaged<nint, void> PyObject_Free = (delegate* unmanaged<nint, void>)Required("PyObject_Free");

    // ---- calls
    public static readonly delegate* unmanaged<nint, nint> PyObject_CallNoArgs = (delegate* unmanaged<nint, nint>)Required("PyObject_CallNoArgs");
    public static readonly delegate* unmanaged<nint, nint, nint, nint> PyObject_Call = (delegate* unmanaged<nint, nint, nint, nint>)Required("PyObject_Call");
    public static readonly delegate* unmanaged<nint, nint*, nuint, nint, nint> PyObject_Vectorcall = (delegate* unmanaged<nint, nint*, nuint, nint, nint>)Required("PyObject_Vectorcall");
    public static readonly delegate* unmanaged<nint, nint*, nuint, nint, nint> PyObject_VectorcallMethod = (delegate* unmanaged<nint, nint*, nuint, nint, nint>)Required("PyObject_VectorcallMethod");

    // ---- numbers
    public static readonly delegate* unmanaged[SuppressGCTransition]<long, nint> PyLong_FromLongLong = (delegate* unmanaged[SuppressGCTransition]<long, nint>)Required("PyLong_FromLongLong");
    public static readonly delegate* unmanaged[SuppressGCTransition]<ulong, nint> PyLong_FromUnsignedLongLong = (delegate* unmanaged[SuppressGCTransition]<ulong, nint>)Required("PyLong_FromUnsignedLongLong");
    public static readonly delegate* unmanaged<nint, int*, long> PyLong_AsLongLongAndOverflow = (delegate* unmanaged<nint, int*, long>)Required("PyLong_AsLongLongAndOverflow");
    public static readonly delegate* unmanaged<nint, ulong> PyLong_AsUnsignedLongLong = (delegate* unmanaged<nint, ulong>)Required("PyLong_AsUnsignedLongLong");
    public static readonly delegate* unmanaged<byte*, byte**, int, nint> PyLong_FromString = (delegate* unmanaged<byte*, byte**, int, nint>)Required("PyLong_FromString");
    public static readonly delegate* unmanaged<nint, int, nint> PyNumber_ToBase = (delegate* unmanaged<nint, int, nint>)Required("PyNumber_ToBase");
    public static readonly delegate* unmanaged<nint, nint> PyNumber_Index = (delegate* unmanaged<nint, nint>)Required("PyNumber_Index");
    public static readonly delegate* unmanaged<nint, int> PyIndex_Check = (delegate* unmanaged<nint, int>)Required("PyIndex_Check");
    public static readonly delegate* unmanaged[SuppressGCTransition]<double, nint> PyFloat_FromDouble = (delegate* unmanaged[SuppressGCTransition]<double, nint>)Required("PyFloat_FromDouble");
    public static readonly delegate* unmanaged<nint, double> PyFloat_AsDouble = (delegate* unmanaged<nint, double>)Required("PyFloat_AsDouble");
    public static readonly delegate* unmanaged[SuppressGCTransition]<double, double, nint> PyComplex_FromDoubles = (delegate* unmanaged[SuppressGCTransition]<double, double, nint>)Required("PyComplex_FromDoubles");
    public static readonly delegate* unmanaged<nint, double> PyComplex_RealAsDouble = (delegate* unmanaged<nint, double>)Required("PyComplex_RealAsDouble");
    public static readonly delegate* unmanaged<nint, double> PyComplex_ImagAsDouble = (delegate* unmanaged<nint, double>)Required("PyComplex_ImagAsDouble");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Add = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Add");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Subtract = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Subtract");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Multiply = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Multiply");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_TrueDivide = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_TrueDivide");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Remainder = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Remainder");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_And = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_And");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Or = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Or");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Xor = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Xor");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Lshift = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Lshift");
    public static readonly delegate* unmanaged<nint, nint, nint> PyNumber_Rshift = (delegate* unmanaged<nint, nint, nint>)Required("PyNumber_Rshift");
    public static readonly delegate* unmanaged<nint, nint> PyNumber_Negative = (delegate* unmanaged<nint, nint>)Required("PyNumber_Negative");
    public static readonly delegate* unmanaged<nint, nint> PyNumber_Positive = (delegate* unmanaged<nint, nint>)Required("PyNumber_Positive");
    public static readonly delegate* unmanaged<nint, nint> PyNumber_Invert = (delegate* unmanaged<nint, nint>)Required("PyNumber_Invert");

    // ---- strings and bytes
    public static readonly delegate* unmanaged<byte*, nint, byte*, int*, nint> PyUnicode_DecodeUTF16 = (delegate* unmanaged<byte*, nint, byte*, int*, nint>)Required("PyUnicode_DecodeUTF16");
    public static readonly delegate* unmanaged<byte*, nint, nint> PyUnicode_FromStringAndSize = (delegate* unmanaged<byte*, nint, nint>)Required("PyUnicode_FromStringAndSize");
    public static readonly delegate* unmanaged<byte*, nint> PyUnicode_InternFromString = (delegate* unmanaged<byte*, nint>)Required("PyUnicode_InternFromString");
    public static readonly delegate* unmanaged<nint, nint*, byte*> PyUnicode_AsUTF8AndSize = (delegate* unmanaged<nint, nint*, byte*>)Required("PyUnicode_AsUTF8AndSize");
    public static readonly delegate* unmanaged<byte*, nint, nint> PyBytes_FromStringAndSize = (delegate* unmanaged<byte*, nint, nint>)Required("PyBytes_FromStringAndSize");
    public static readonly delegate* unmanaged<nint, byte**, nint*, int> PyBytes_AsStringAndSize = (delegate* unmanaged<nint, byte**, nint*, int>)Required("PyBytes_AsStringAndSize");

    // ---- containers
    public static readonly delegate* unmanaged<nint, nint> PyTuple_New = (delegate* unmanaged<nint, nint>)Required("PyTuple_New");
    public static readonly delegate* unmanaged<nint, nint, nint, int> PyTuple_SetItem = (delegate* unmanaged<nint, nint, nint, int>)Required("PyTuple_SetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, nint, nint> PyTuple_GetItem = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint>)Required("PyTuple_GetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, nint> PyTuple_Size = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)Required("PyTuple_Size");
    public static readonly delegate* unmanaged<nint, nint> PyList_New = (delegate* unmanaged<nint, nint>)Required("PyList_New");
    public static readonly delegate* unmanaged<nint, nint, nint, int> PyList_SetItem = (delegate* unmanaged<nint, nint, nint, int>)Required("PyList_SetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, nint, nint> PyList_GetItem = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint>)Required("PyList_GetItem");
    public static readonly delegate* unmanaged[SuppressGCTransition]<nint, nint> PyList_Size = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)Required("PyList_Size");
    public static readonly delegate* unmanaged<nint, nint, int> PyList_Append = (delegate* unmanaged<nint, nint, int>)Required("PyList_Append");
    public static readonly delegate* unmanaged<nint> PyDict_New = (delegate* unmanaged<nint>)Required("PyDict_New");
    public static readonly delegate* unmanaged<nint, nint, nint, int> PyDict_SetItem = (delegate* unmanaged<nint, nint, nint, int>)Required("PyDict_SetItem");
    public static readonly delegate* unmanaged<nint, byte*, nint, int> PyDict_SetItemString = (delegate* unmanaged<nint, byte*, nint, int>)Required("PyDict_SetItemString");
    public static readonly delegate* unmanaged<nint, byte*, nint> PyDict_GetItemString = (delegate* unmanaged<nint, byte*, nint>)Required("PyDict_GetItemString");
    public static readonly delegate* unmanaged<nint, nint*, nint*, nint*, int> PyDict_Next = (delegate* unmanaged<nint, nint*, nint*, nint*, int>)Required("PyDict_Next");
    public static readonly delegate* unmanaged<nint, nint> PyMapping_Items = (delegate* unmanaged<nint, nint>)Required("PyMapping_Items");
    public static readonly delegate* unmanaged<nint, nint> PySet_New = (delegate* unmanaged<nint, nint>)Required("PySet_New");
    public static readonly delegate* unmanaged<nint, nint, int> PySet_Add = (delegate* unmanaged<nint, nint, int>)Required("PySet_Add");

    // ---- modules, code, interpreter state
    public static readonly delegate* unmanaged<byte*, nint> PyImport_ImportModule = (delegate* unmanaged<byte*, nint>)Required("PyImport_ImportModule");
    public static readonly delegate* unmanaged<nint> PyImport_GetModuleDict = (delegate* unmanaged<nint>)Required("PyImport_GetModuleDict");
    public static readonly delegate* unmanaged<byte*, nint> PyModule_New = (delegate* unmanaged<byte*, nint>)Required("PyModule_New");
    public static readonly delegate* unmanaged<nint> PyEval_GetBuiltins = (delegate* unmanaged<nint>)Required("PyEval_GetBuiltins");
    public static readonly delegate* unmanaged<byte*, int, nint, nint, nint, nint> PyRun_StringFlags = (delegate* unmanaged<byte*, int, nint, nint, nint, nint>)Required("PyRun_StringFlags");
    public static readonly delegate* unmanaged<byte*, nint> PySys_GetObject = (delegate* unmanaged<byte*, nint>)Required("PySys_GetObject");

    // ---- types, buffers, builtin functions
    public static readonly delegate* unmanaged<PyType_Spec*, nint> PyType_FromSpec = (delegate* unmanaged<PyType_Spec*, nint>)Required("PyType_FromSpec");
    public static readonly delegate* unmanaged<nint, int, nint> PyType_GetSlot = (delegate* unmanaged<nint, int, nint>)Required("PyType_GetSlot");
    public static readonly delegate* unmanaged<nint, nint, nint> PyType_GenericAlloc = (delegate* unmanaged<nint, nint, nint>)Required("PyType_GenericAlloc");
    public static readonly delegate* unmanaged<nint, Py_buffer*, int, int> PyObject_GetBuffer = (delegate* unmanaged<nint, Py_buffer*, int, int>)Required("PyObject_GetBuffer");
    public static readonly delegate* unmanaged<nint, int> PyObject_CheckBuffer = (delegate* unmanaged<nint, int>)Required("PyObject_CheckBuffer");
    public static readonly delegate* unmanaged<Py_buffer*, void> PyBuffer_Release = (delegate* unmanaged<Py_buffer*, void>)Required("PyBuffer_Release");
    public static readonly delegate* unmanaged<PyMethodDef*, nint, nint, nint> PyCFunction_NewEx = (delegate* unmanaged<PyMethodDef*, nint, nint, nint>)Required("PyCFunction_NewEx");

    // ---- singletons and exception types (data symbols: dlsym gives their address)
    public static readonly nint Py_None = Required("_Py_NoneStruct");
    public static readonly nint Py_True = Required("_Py_TrueStruct");
    public static readonly nint Py_False = Required("_Py_FalseStruct");
    public static readonly nint PyLong_Type = Required("PyLong_Type");
    public static readonly nint PyBool_Type = Required("PyBool_Type");
    public static readonly nint PyFloat_Type = Required("PyFloat_Type");
    public static readonly nint PyComplex_Type = Required("PyComplex_Type");
    public static readonly nint PyUnicode_Type = Required("PyUnicode_Type");
    public static readonly nint PyBytes_Type = Required("PyBytes_Type");
    public static readonly nint PyByteArray_Type = Required("PyByteArray_Type");
    public static readonly nint PyTuple_Type = Required("PyTuple_Type");
    public static readonly nint PyList_Type = Required("PyList_Type");
    public static readonly nint PyDict_Type = Required("PyDict_Type");
    public static readonly nint PySet_Type = Required("PySet_Type");
    public static readonly nint PyFrozenSet_Type = Required("PyFrozenSet_Type");

    public static readonly nint PyExc_Exception = DataPointer("PyExc_Exception");
    public static readonly nint PyExc_RuntimeError = DataPointer("PyExc_RuntimeError");
    public static readonly nint PyExc_ValueError = DataPointer("PyExc_ValueError");
    public static readonly nint PyExc_TypeError = DataPointer("PyExc_TypeError");
    public static readonly nint PyExc_KeyError = DataPointer("PyExc_KeyError");
    public static readonly nint PyExc_IndexError = DataPointer("PyExc_IndexError");
    public static readonly nint PyExc_OverflowError = DataPointer("PyExc_OverflowError");
    public static readonly nint PyExc_ZeroDivisionError = DataPointer("PyExc_ZeroDivisionError");
    public static readonly nint PyExc_NotImplementedError = DataPointer("PyExc_NotImplementedError");
    public static readonly nint PyExc_MemoryError = DataPointer("PyExc_MemoryError");
    public static readonly nint PyExc_OSError = DataPointer("PyExc_OSError");
    public static readonly nint PyExc_FileNotFoundError = DataPointer("PyExc_FileNotFoundError");
    public static readonly nint PyExc_PermissionError = DataPointer("PyExc_PermissionError");
    public static readonly nint PyExc_TimeoutError = DataPointer("PyExc_TimeoutError");
    public static readonly nint PyExc_BufferError = DataPointer("PyExc_BufferError");
    public static readonly nint PyExc_StopIteration = DataPointer("PyExc_StopIteration");
    public static readonly nint PyExc_AttributeError = DataPointer("PyExc_AttributeError");

    /// <summary><c>Py_TYPE(o)</c>: a borrowed pointer to the object's type.</summary>
    public static nint Py_TYPE(nint o) => *(nint*)(o + PyConst.ObTypeOffset);

    /// <summary>True when <paramref name="o"/>'s type has <paramref name="flag"/> (the <c>PyXxx_Check</c> macros).</summary>
    public static bool HasTypeFlag(nint o, ulong flag) => (PyType_GetFlags(Py_TYPE(o)) & flag) != 0;
}
