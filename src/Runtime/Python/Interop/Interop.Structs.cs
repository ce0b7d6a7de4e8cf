using System.Runtime.InteropServices;

namespace PyMpiBridge.Python.Interop;

// C structs of the CPython API we exchange with libpython, laid out exactly as in the 3.9+ headers
// (x86-64 / aarch64 Linux, non-debug, GIL builds: PyObject_HEAD is 16 bytes).

/// <summary><c>Py_buffer</c> (pybuffer.h): the buffer protocol's view descriptor.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Py_buffer
{
    public nint buf;
    public nint obj;          // owned reference to the exporter
    public nint len;
    public nint itemsize;
    public int @readonly;
    public int ndim;
    public nint format;       // char*
    public nint shape;        // Py_ssize_t*
    public nint strides;      // Py_ssize_t*
    public nint suboffsets;   // Py_ssize_t*
    public nint @internal;
}

/// <summary><c>PyType_Slot</c> (object.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PyType_Slot
{
    public int slot;
    public nint pfunc;
}

/// <summary><c>PyType_Spec</c> (object.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PyType_Spec
{
    public nint name;         // const char*
    public int basicsize;
    public int itemsize;
    public uint flags;
    public nint slots;        // PyType_Slot*, terminated by slot == 0
}

/// <summary><c>PyMethodDef</c> (methodobject.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PyMethodDef
{
    public nint ml_name;      // const char*
    public nint ml_meth;      // PyCFunction
    public int ml_flags;
    public nint ml_doc;       // const char*
}

/// <summary>The constants of the headers we rely on.</summary>
internal static class PyConst
{
    public const int Py_file_input = 257;
    public const int Py_eval_input = 258;

    public const int METH_VARARGS = 0x0001;
    public const int METH_KEYWORDS = 0x0002;
    public const int METH_FASTCALL = 0x0080;

    public const ulong PY_VECTORCALL_ARGUMENTS_OFFSET_VALUE = 1ul << 63;
    public static readonly nuint PY_VECTORCALL_ARGUMENTS_OFFSET = unchecked((nuint)PY_VECTORCALL_ARGUMENTS_OFFSET_VALUE);

    public const int PyBUF_SIMPLE = 0;
    public const int PyBUF_WRITABLE = 0x0001;
    public const int PyBUF_FORMAT = 0x0004;
    public const int PyBUF_ND = 0x0008;
    public const int PyBUF_STRIDES = 0x0010 | PyBUF_ND;
    public const int PyBUF_C_CONTIGUOUS = 0x0020 | PyBUF_STRIDES;
    public const int PyBUF_F_CONTIGUOUS = 0x0040 | PyBUF_STRIDES;
    public const int PyBUF_ANY_CONTIGUOUS = 0x0080 | PyBUF_STRIDES;
    public const int PyBUF_INDIRECT = 0x0100 | PyBUF_STRIDES;
    public const int PyBUF_RECORDS_RO = PyBUF_STRIDES | PyBUF_FORMAT;

    public const int Py_bf_getbuffer = 1;
    public const int Py_bf_releasebuffer = 2;
    public const int Py_tp_dealloc = 52;
    public const int Py_tp_doc = 56;
    public const int Py_tp_free = 74;

    public const uint Py_TPFLAGS_DISALLOW_INSTANTIATION = 1u << 7;
    public const uint Py_TPFLAGS_HAVE_VERSION_TAG = 1u << 18;
    public const uint Py_TPFLAGS_DEFAULT = Py_TPFLAGS_HAVE_VERSION_TAG;
    public const ulong Py_TPFLAGS_LONG_SUBCLASS = 1ul << 24;
    public const ulong Py_TPFLAGS_LIST_SUBCLASS = 1ul << 25;
    public const ulong Py_TPFLAGS_TUPLE_SUBCLASS = 1ul << 26;
    public const ulong Py_TPFLAGS_BYTES_SUBCLASS = 1ul << 27;
    public const ulong Py_TPFLAGS_UNICODE_SUBCLASS = 1ul << 28;
    public const ulong Py_TPFLAGS_DICT_SUBCLASS = 1ul << 29;
    public const ulong Py_TPFLAGS_BASE_EXC_SUBCLASS = 1ul << 30;
    public const ulong Py_TPFLAGS_TYPE_SUBCLASS = 1ul << 31;

    public const int Py_LT = 0, Py_LE = 1, Py_EQ = 2, Py_NE = 3, Py_GT = 4, Py_GE = 5;

    /// <summary>Offset of <c>ob_type</c> in <c>PyObject</c> (after the 8-byte refcount).</summary>
    public const int ObTypeOffset = 8;
    public const int PyObjectHeadSize = 16;
}
