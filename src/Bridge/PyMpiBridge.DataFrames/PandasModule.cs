using PyMpiBridge.Python;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// The pandas side of the conversion (<c>pandas_frames.py</c>, embedded in this assembly), run once in the embedded
/// interpreter and kept for the process lifetime, like the interpreter. Caller holds the GIL.
/// </summary>
internal static class PandasModule
{
    private static PyObject? s_globals;

    /// <summary><c>pandas_frames.name(*args)</c>; its FrameConversionError becomes a <see cref="DataFrameConversionException"/>.</summary>
    public static PyObject Call(string name, params ReadOnlySpan<object?> args)
    {
        using var function = Globals().GetItem(name);
        try
        {
            return function.Call(args);
        }
        catch (PythonException e) when (e.PythonTypeName.EndsWith("FrameConversionError", StringComparison.Ordinal))
        {
            throw new DataFrameConversionException(e.PythonMessage, e);
        }
    }

    private static PyObject Globals()
    {
        if (s_globals is { } ready) return ready;
        using var stream = typeof(PandasModule).Assembly.GetManifestResourceStream("pandas_frames.py")
            ?? throw new InvalidOperationException("pandas_frames.py is missing from PyMpiBridge.DataFrames.dll (a build problem).");
        string source = new StreamReader(stream).ReadToEnd();
        var globals = Py.NewGlobals("pympibridge_dataframes");
        try
        {
            Py.Exec(source, globals);
        }
        catch (PythonException e) when (e.PythonTypeName is "ModuleNotFoundError" or "ImportError")
        {
            globals.Dispose();
            throw new InvalidOperationException(
                $"DataFrames cross to Python through pandas and numpy, which this interpreter cannot import ({e.PythonMessage}); " +
                "install them (Debian: apt-get install python3-pandas) or choose another interpreter (PYMPI_PYTHON).", e);
        }
        GC.SuppressFinalize(globals); // kept for the process lifetime
        return s_globals = globals;
    }
}
