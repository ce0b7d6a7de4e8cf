namespace PyMpiBridge.Hosting;

/// <summary>How a rank's Python program is named, as with the <c>python</c> command line.</summary>
public enum PythonTargetKind
{
    /// <summary><c>script.py</c>: run a file as <c>__main__</c>.</summary>
    Script,
    /// <summary><c>-m module</c>: run a module as <c>__main__</c> (runpy, like <c>python -m</c>).</summary>
    Module,
    /// <summary><c>-c code</c>: run a string of code as <c>__main__</c>.</summary>
    Code,
}

/// <summary>The Python program each rank runs, and the arguments it sees in <c>sys.argv[1:]</c>.</summary>
public sealed record PythonTarget(PythonTargetKind Kind, string Value, IReadOnlyList<string> Arguments)
{
    /// <summary>
    /// <c>sys.argv</c> as CPython would set it: the script path, <c>-c</c> for code, and for modules the
    /// placeholder <c>-m</c> that runpy replaces with the module's file name.
    /// </summary>
    public IReadOnlyList<string> Argv => Kind switch
    {
        PythonTargetKind.Script => [Value, .. Arguments],
        PythonTargetKind.Module => ["-m", .. Arguments],
        _ => ["-c", .. Arguments],
    };

    /// <summary>The target as command-line words, to hand to every rank's host process.</summary>
    public IEnumerable<string> ToCommandLine() => Kind switch
    {
        PythonTargetKind.Script => [Value, .. Arguments],
        PythonTargetKind.Module => ["-m", Value, .. Arguments],
        _ => ["-c", Value, .. Arguments],
    };
}
