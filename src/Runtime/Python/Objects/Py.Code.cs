using System.Text;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

public static unsafe partial class Py
{
    /// <summary><c>import name</c> (dotted names return the leaf module, like <c>importlib.import_module</c>).</summary>
    public static unsafe PyObject Import(string name)
    {
        GilState.ThrowIfNotHeld();
        fixed (byte* utf8 = Utf8(name)) return CPython.PyImport_ImportModule(utf8).MoveToPyObject();
    }

    /// <summary>A fresh globals dictionary with <c>__builtins__</c> and <c>__name__ = "__main__"</c>-like defaults.</summary>
    public static unsafe PyObject NewGlobals(string moduleName = "__pympi__")
    {
        GilState.ThrowIfNotHeld();
        var globals = CPython.PyDict_New().MoveToPyObject();
        fixed (byte* key = "__builtins__\0"u8) PyObject.Check(CPython.PyDict_SetItemString(globals.Reference, key, CPython.PyEval_GetBuiltins()));
        globals.SetItem("__name__", moduleName);
        return globals;
    }

    /// <summary>Runs statements (<c>exec(code, globals, locals)</c>); new names land in <paramref name="globals"/>.</summary>
    /// <param name="code">Python source; common leading indentation is removed.</param>
    /// <param name="globals">A dict; null runs in a fresh one (see <see cref="NewGlobals"/>).</param>
    /// <param name="locals">A mapping; null uses <paramref name="globals"/>.</param>
    public static void Exec(string code, PyObject? globals = null, PyObject? locals = null)
    {
        using var result = Run(code, PyConst.Py_file_input, globals, locals);
    }

    /// <summary>Evaluates one expression (<c>eval(code, globals, locals)</c>).</summary>
    public static PyObject Eval(string code, PyObject? globals = null, PyObject? locals = null)
        => Run(code, PyConst.Py_eval_input, globals, locals);

    private static unsafe PyObject Run(string code, int start, PyObject? globals, PyObject? locals)
    {
        GilState.ThrowIfNotHeld();
        PyObject? fresh = globals is null ? NewGlobals() : null;
        try
        {
            var g = (globals ?? fresh)!.Reference;
            var l = locals?.Reference ?? g;
            fixed (byte* source = Utf8(Dedent(code)))
                return CPython.PyRun_StringFlags(source, start, g, l, 0).MoveToPyObject();
        }
        finally { fresh?.Dispose(); }
    }

    /// <summary><c>None</c> (a new reference).</summary>
    public static PyObject None
    {
        get
        {
            GilState.ThrowIfNotHeld();
            return CPython.Py_None.ToPyObject();
        }
    }

    internal static byte[] Utf8(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>Removes the indentation common to all non-blank lines, so C# raw strings can be indented with the code.</summary>
    internal static string Dedent(string code)
    {
        string[] lines = code.Replace("\r\n", "\n").Split('\n');
        int common = int.MaxValue;
        foreach (string line in lines)
        {
            if (line.Trim().Length == 0) continue;
            int indent = line.Length - line.TrimStart(' ', '\t').Length;
            common = Math.Min(common, indent);
        }
        if (common is 0 or int.MaxValue) return code;
        return string.Join('\n', lines.Select(l => l.Length >= common ? l[common..] : l.TrimStart()));
    }
}
