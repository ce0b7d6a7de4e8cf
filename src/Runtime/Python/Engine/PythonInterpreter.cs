namespace PyMpiBridge.Python;

/// <summary>One interpreter the discovery looked at, and why it was rejected (null when it was chosen).</summary>
/// <param name="Path">The executable path as given or found.</param>
/// <param name="Source">Where the candidate came from: option, environment variable, default, PATH.</param>
/// <param name="RejectedBecause">Why it was not used; null for the chosen one.</param>
public sealed record PythonCandidate(string Path, string Source, string? RejectedBecause);

/// <summary>The interpreter embedded in this process: which one, why, and where its pieces are.</summary>
public sealed record PythonInterpreter
{
    /// <summary>The python executable whose libpython we load (becomes <c>sys.executable</c>).</summary>
    public required string Executable { get; init; }
    /// <summary>Where the choice came from (<c>PythonOptions.PythonExecutable</c>, <c>PYMPI_PYTHON</c>, default, PATH, adopted).</summary>
    public required string Source { get; init; }
    /// <summary>Why this interpreter was chosen, in one sentence.</summary>
    public required string Reason { get; init; }
    /// <summary>Python version, e.g. 3.11.2.</summary>
    public required string Version { get; init; }
    /// <summary>The shared library loaded into the process.</summary>
    public required string LibraryPath { get; init; }
    /// <summary><c>sys.prefix</c> of the interpreter (the venv directory for a virtual environment).</summary>
    public required string Prefix { get; init; }
    /// <summary><c>sys.exec_prefix</c>.</summary>
    public required string ExecPrefix { get; init; }
    /// <summary><c>sys.base_prefix</c>: where the standard library lives; becomes PYTHONHOME during start-up.</summary>
    public required string BasePrefix { get; init; }
    /// <summary><c>sys.base_exec_prefix</c>.</summary>
    public required string BaseExecPrefix { get; init; }
    /// <summary>The interpreter's own <c>sys.path</c>, reproduced in the embedded interpreter.</summary>
    public required IReadOnlyList<string> SysPath { get; init; }
    /// <summary>numpy's version, or null when the interpreter cannot import numpy.</summary>
    public string? NumpyVersion { get; init; }
    /// <summary>Every candidate considered, in order, with the reasons the others were rejected.</summary>
    public IReadOnlyList<PythonCandidate> Candidates { get; init; } = [];

    /// <summary>True when Python was already running in this process and we attached to it.</summary>
    public bool Adopted { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"Python {Version} at {Executable} ({Source}: {Reason}); library {LibraryPath}";
}
