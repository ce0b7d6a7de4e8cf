using PyMpiBridge.Python;
using PyMpiBridge.Sharing;

namespace PyMpiBridge.DataFrames;

/// <summary>
/// The pandas side of the conversion: <c>pympibridge._dataframes</c> (python/pympibridge), imported once and kept for
/// the process lifetime, like the interpreter. Caller holds the GIL.
/// </summary>
internal static class PandasModule
{
    public const string Name = "pympibridge._dataframes";

    private static PyObject? s_module;

    /// <summary><c>_dataframes.name(*args)</c>; its FrameConversionError becomes a <see cref="DataFrameConversionException"/>.</summary>
    public static PyObject Call(string name, params ReadOnlySpan<object?> args)
    {
        using var function = Module().GetAttr(name);
        try
        {
            return function.Call(args);
        }
        catch (PythonException e) when (e.PythonTypeName.EndsWith("FrameConversionError", StringComparison.Ordinal))
        {
            throw new DataFrameConversionException(e.PythonMessage, e);
        }
    }

    private static PyObject Module()
    {
        if (s_module is { } ready) return ready;
        try
        {
            using var sys = Py.Import("sys");
            using var path = sys.GetAttr("path");
            // A rank session put the package on sys.path already; a bare interpreter (PythonEngine alone) has not.
            if (!path.As<List<string>>().Contains(PythonPackage.Directory)) path.CallMethod("append", PythonPackage.Directory).Dispose();
            s_module = Py.Import(Name);
        }
        catch (PythonException e) when (e.PythonTypeName is "ModuleNotFoundError" or "ImportError")
        {
            throw new InvalidOperationException(
                $"DataFrames cross to Python through pandas and numpy, which this interpreter cannot import ({e.PythonMessage}); " +
                "install them (Debian: apt-get install python3-pandas) or choose another interpreter (PYMPI_PYTHON).", e);
        }
        GC.SuppressFinalize(s_module); // kept for the process lifetime
        return s_module;
    }
}
