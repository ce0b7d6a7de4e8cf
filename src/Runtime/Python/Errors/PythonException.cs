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
        if (!CPython.PyErr_Occurred().IsNull) throw FetchCurrent();
    }

    /// <summary>
    /// Takes the pending Python error (clearing it) and turns it into a <see cref="PythonException"/>; when no error
    /// is pending (a C-API call returned NULL without setting one) returns an exception saying so.
    /// </summary>
    internal static unsafe PythonException FetchCurrent()
    {
        var fetched = FetchNormalized();
        if (fetched.IsNull)
            return new PythonException("SystemError", "a Python C-API call failed without setting an exception", "", null);
        var exception = fetched.MoveToPyObject();
        var value = exception.Reference;
        string typeName = QualifiedTypeName(CPython.Py_TYPE(value));
        string message = SafeStr(value);
        string traceback = FormatTraceback(value);
        return new PythonException(typeName, message, traceback, exception);
    }

    /// <summary>Fetches the pending exception as one normalized object with its traceback attached (null when none is set).</summary>
    private static unsafe NewReference FetchNormalized()
    {
        if (CPython.PyErr_GetRaisedException != null) return CPython.PyErr_GetRaisedException(); // 3.12+
        CPython.PyErr_Fetch(out var type, out var value, out var tb);
        try
        {
            if (type.IsNull) return default;
            CPython.PyErr_NormalizeException(ref type, ref value, ref tb);
            if (!tb.IsNull && !value.IsNull) CPython.PyException_SetTraceback(value.Borrow(), tb.Borrow());
            return value.Move(); // normalized: an exception type always comes with a value
        }
        finally
        {
            type.Dispose();
            tb.Dispose();
        }
    }

    /// <summary>Raises this exception (or its original Python exception) as the current Python error.</summary>
    internal unsafe void Restore()
    {
        if (Value is null || Value.IsDisposed)
        {
            fixed (byte* text = Encoding.UTF8.GetBytes(Message + "\0")) CPython.PyErr_SetString(CPython.PyExc_RuntimeError, text);
            return;
        }
        var value = Value.Reference;
        if (CPython.PyErr_SetRaisedException != null)
        {
            CPython.PyErr_SetRaisedException(NewReference.FromBorrowed(value).Steal());
            return;
        }
        var type = NewReference.FromBorrowed(CPython.Py_TYPE(value));
        var tb = CPython.PyException_GetTraceback(value); // null when it has none
        CPython.PyErr_Restore(type.Steal(), NewReference.FromBorrowed(value).Steal(), tb.StealNullable());
    }

    internal static string QualifiedTypeName(BorrowedReference type)
    {
        using var typeObject = type.ToPyObject();
        string name = TryGetString(typeObject, "__qualname__") ?? TryGetString(typeObject, "__name__") ?? "?";
        string? module = TryGetString(typeObject, "__module__");
        return module is null or "builtins" or "__main__" ? name : $"{module}.{name}";
    }

    private static string? TryGetString(PyObject o, string attribute)
    {
        try { using var value = o.GetAttr(attribute); return value.ToString(); }
        catch (PythonException) { return null; }
    }

    private static string SafeStr(BorrowedReference value)
    {
        using var str = CPython.PyObject_Str(value);
        if (str.IsNull) { CPython.PyErr_Clear(); return "<exception str() failed>"; }
        return PyConvert.ToManagedString(str.Borrow());
    }

    private static string FormatTraceback(BorrowedReference value)
    {
        try
        {
            using var traceback = Py.Import("traceback");
            using var format = traceback.GetAttr("format_exception");
            using var exception = value.ToPyObject();
            using var type = CPython.Py_TYPE(value).ToPyObject();
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
