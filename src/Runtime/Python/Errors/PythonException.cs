using System.Text;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// A Python exception surfaced in .NET: the Python type name, its message and the formatted traceback
/// (as <c>traceback.format_exception</c> prints it) are all in <see cref="Exception.Message"/> too, so logs lose nothing.
/// When it propagates back into Python through a C# function, the original Python exception is re-raised.
/// </summary>
public sealed unsafe class PythonException : Exception
{
    /// <summary>Qualified Python type name, e.g. <c>ValueError</c> or <c>numpy.linalg.LinAlgError</c>.</summary>
    public string PythonTypeName { get; }

    /// <summary><c>str(exception)</c>.</summary>
    public string PythonMessage { get; }

    /// <summary>The full formatted traceback, most recent call last, ending with "Type: message".</summary>
    public string PythonTraceback { get; }

    /// <summary>The exception object itself (owned), for re-raising; null when it could not be kept.</summary>
    internal PyObject? Value { get; }

    internal PythonException(string typeName, string message, string traceback, PyObject? value)
        : base(BuildMessage(typeName, message, traceback))
    {
        PythonTypeName = typeName;
        PythonMessage = message;
        PythonTraceback = traceback;
        Value = value;
    }

    private static string BuildMessage(string typeName, string message, string traceback)
    {
        var text = new StringBuilder($"{typeName}: {message}");
        if (traceback.Length > 0) text.AppendLine().AppendLine("Python traceback:").Append(traceback.TrimEnd());
        return text.ToString();
    }

    /// <summary>Throws the pending Python error, if any. Caller holds the GIL.</summary>
    internal static void ThrowIfOccurred()
    {
        if (CPython.PyErr_Occurred() != 0) throw FetchCurrent();
    }

    /// <summary>
    /// Takes the pending Python error (clearing it) and turns it into a <see cref="PythonException"/>; when no error
    /// is pending (a C-API call returned NULL without setting one) returns an exception saying so.
    /// </summary>
    internal static unsafe PythonException FetchCurrent()
    {
        nint value = FetchNormalized();
        if (value == 0)
            return new PythonException("SystemError", "a Python C-API call failed without setting an exception", "", null);
        var exception = new PyObject(value);
        nint type = CPython.Py_TYPE(value);
        string typeName = QualifiedTypeName(type);
        string message = SafeStr(value);
        string traceback = FormatTraceback(value);
        return new PythonException(typeName, message, traceback, exception);
    }

    /// <summary>Fetches the pending exception as one normalized object with its traceback attached (new reference).</summary>
    private static unsafe nint FetchNormalized()
    {
        if (CPython.PyErr_GetRaisedException != null) return CPython.PyErr_GetRaisedException(); // 3.12+
        nint type, value, tb;
        CPython.PyErr_Fetch(&type, &value, &tb);
        if (type == 0) return 0;
        CPython.PyErr_NormalizeException(&type, &value, &tb);
        if (tb != 0 && value != 0) CPython.PyException_SetTraceback(value, tb);
        if (type != 0) CPython.Py_DecRef(type);
        if (tb != 0) CPython.Py_DecRef(tb);
        return value;
    }

    /// <summary>Raises this exception (or its original Python exception) as the current Python error.</summary>
    internal unsafe void Restore()
    {
        if (Value is null || Value.IsDisposed)
        {
            fixed (byte* text = Encoding.UTF8.GetBytes(Message + "\0")) CPython.PyErr_SetString(CPython.PyExc_RuntimeError, text);
            return;
        }
        nint value = Value.DangerousGetAddress();
        if (CPython.PyErr_SetRaisedException != null)
        {
            CPython.Py_IncRef(value);
            CPython.PyErr_SetRaisedException(value);
            return;
        }
        nint type = CPython.Py_TYPE(value);
        nint tb = CPython.PyException_GetTraceback(value); // new reference or 0
        CPython.Py_IncRef(type);
        CPython.Py_IncRef(value);
        CPython.PyErr_Restore(type, value, tb); // steals all three
    }

    internal static string QualifiedTypeName(nint type)
    {
        using var typeObject = new BorrowedReference(type).ToPyObject();
        string name = TryGetString(typeObject, "__qualname__") ?? TryGetString(typeObject, "__name__") ?? "?";
        string? module = TryGetString(typeObject, "__module__");
        return module is null or "builtins" or "__main__" ? name : $"{module}.{name}";
    }

    private static string? TryGetString(PyObject o, string attribute)
    {
        try { using var value = o.GetAttr(attribute); return value.ToString(); }
        catch (PythonException) { return null; }
    }

    private static string SafeStr(nint value)
    {
        nint str = CPython.PyObject_Str(value);
        if (str == 0) { CPython.PyErr_Clear(); return "<exception str() failed>"; }
        using var s = new PyObject(str);
        return PyConvert.ToManagedString(str);
    }

    private static string FormatTraceback(nint value)
    {
        try
        {
            using var traceback = Py.Import("traceback");
            using var format = traceback.GetAttr("format_exception");
            using var exception = new BorrowedReference(value).ToPyObject();
            using var type = new BorrowedReference(CPython.Py_TYPE(value)).ToPyObject();
            using var tb = exception.GetAttr("__traceback__");
            using var lines = format.Call(type, exception, tb);
            var text = new StringBuilder();
            foreach (var line in lines) using (line) text.Append(line.ToString());
            return text.ToString();
        }
        catch (PythonException)
        {
            return "";
        }
    }
}
