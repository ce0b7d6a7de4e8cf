using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Python;

/// <summary>How <see cref="PythonEngine.Initialize(PythonOptions?)"/> chooses and starts the interpreter.</summary>
public sealed class PythonOptions
{
    /// <summary>Name of the environment variable that selects the interpreter (path to a python executable).</summary>
    public const string PythonEnvironmentVariable = "PYMPI_PYTHON";

    /// <summary>
    /// The python executable to embed (a virtual environment's <c>bin/python</c> works: its site-packages are used).
    /// Wins over <c>PYMPI_PYTHON</c> and the defaults. When it cannot be used, initialization fails rather than
    /// silently falling back to another interpreter.
    /// </summary>
    public string? PythonExecutable { get; init; }

    /// <summary>
    /// How the user named <see cref="PythonExecutable"/>, for messages (a command-line tool passes its option, e.g.
    /// <c>--python</c>, so an error speaks the user's language).
    /// </summary>
    public string PythonExecutableSource { get; init; } = "PythonOptions.PythonExecutable";

    /// <summary>Directories put in front of <c>sys.path</c> after start-up (e.g. the directory of your scripts).</summary>
    public IReadOnlyList<string> AdditionalPaths { get; init; } = [];

    /// <summary>Receives the choice of interpreter (Information) and start-up details (Debug).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>How long the discovery may wait for one candidate interpreter to describe itself.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// When true (default), the interpreter is finalized when the process exits, if <see cref="PythonEngine.Shutdown"/>
    /// was not called: Python's atexit handlers run and its buffered stdout/stderr are flushed.
    /// </summary>
    public bool ShutdownOnProcessExit { get; init; } = true;
}
