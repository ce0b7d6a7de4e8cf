using System.Text;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

/// <summary>
/// .NET exceptions thrown into Python become the nearest Python exception type (ArgumentException → ValueError,
/// KeyNotFoundException → KeyError, …, otherwise RuntimeError), with "DotNetType: message" as their message,
/// attributes <c>dotnet_type</c>/<c>dotnet_message</c>, and the full .NET exception (stack, inner exceptions) as a note.
/// A <see cref="PythonException"/> coming back re-raises the original Python exception.
/// </summary>
internal static unsafe class ExceptionMapping
{
    public static BorrowedReference PythonTypeFor(Exception e) => e switch
    {
        ArgumentCountException or InvalidCastException => CPython.PyExc_TypeError,
        KeyNotFoundException => CPython.PyExc_KeyError,
        IndexOutOfRangeException => CPython.PyExc_IndexError,
        ArgumentException => CPython.PyExc_ValueError,
        OverflowException => CPython.PyExc_OverflowError,
        DivideByZeroException => CPython.PyExc_ZeroDivisionError,
        NotImplementedException or NotSupportedException => CPython.PyExc_NotImplementedError,
        OutOfMemoryException or InsufficientExecutionStackException => CPython.PyExc_MemoryError,
        FileNotFoundException or DirectoryNotFoundException => CPython.PyExc_FileNotFoundError,
        UnauthorizedAccessException => CPython.PyExc_PermissionError,
        IOException => CPython.PyExc_OSError,
        TimeoutException => CPython.PyExc_TimeoutError,
        _ => CPython.PyExc_RuntimeError,
    };

    /// <summary>Sets the current Python error for <paramref name="e"/>. Caller holds the GIL.</summary>
    public static void SetPythonError(Exception e)
    {
        if (e is PythonException python) { python.Restore(); return; }
        var type = PythonTypeFor(e);
        string text = $"{e.GetType().FullName}: {e.Message}";
        try
        {
            using var typeObject = type.ToPyObject();
            using var instance = typeObject.Call(text);
            instance.SetAttr("dotnet_type", e.GetType().FullName);
            instance.SetAttr("dotnet_message", e.Message);
            if (instance.HasAttr("add_note"))
                using (instance.CallMethod("add_note", ".NET exception:\n" + e)) { }
            CPython.PyErr_SetObject(type, instance.Reference);
        }
        catch (Exception)
        {
            if (!CPython.PyErr_Occurred().IsNull) CPython.PyErr_Clear();
            fixed (byte* utf8 = Py.Utf8(text)) CPython.PyErr_SetString(type, utf8);
        }
    }
}
