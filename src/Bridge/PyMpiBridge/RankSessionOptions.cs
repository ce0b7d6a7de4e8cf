using Microsoft.Extensions.Logging;
using PyMpiBridge.Mpi;

namespace PyMpiBridge;

/// <summary>How <see cref="PyMpi.Start"/> brings up a rank.</summary>
public sealed record RankSessionOptions
{
    /// <summary>Thread level asked of MPI. Multiple by default, so C# threads and Python threads may both call MPI.</summary>
    public ThreadLevel ThreadLevel { get; init; } = ThreadLevel.Multiple;

    /// <summary>Python executable whose interpreter is embedded (else <c>PYMPI_PYTHON</c>, else discovery).</summary>
    public string? PythonExecutable { get; init; }

    /// <summary>How the user named <see cref="PythonExecutable"/> (e.g. <c>--python</c>), used in error messages.</summary>
    public string PythonExecutableSource { get; init; } = "RankSessionOptions.PythonExecutable";

    /// <summary>Start Python in this rank. False gives a C#-only rank (no libpython needed).</summary>
    public bool StartPython { get; init; } = true;

    /// <summary>Extra folders put on <c>sys.path</c> (after the one holding the <c>pympibridge</c> package).</summary>
    public IReadOnlyList<string> PythonPaths { get; init; } = [];

    /// <summary>Minimum log level; else <c>PYMPI_LOG_LEVEL</c>, else Warning.</summary>
    public LogLevel? LogLevel { get; init; }

    /// <summary>A logger factory to use instead of the rank-tagged console one.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// On an unhandled .NET exception in any thread, print it with the rank and call MPI_Abort, so the other
    /// ranks do not wait forever for this one. On by default.
    /// </summary>
    public bool AbortOnUnhandledException { get; init; } = true;

    /// <summary>
    /// When a launcher started this rank (mpiexec, srun...), end the rank as soon as the launcher's process exits.
    /// A launcher that ends normally waits for its ranks, so it only goes first when it was killed, and a rank
    /// outliving it would wait forever in MPI. On by default; off leaves such a rank to whoever killed the launcher.
    /// </summary>
    public bool EndWhenLauncherExits { get; init; } = true;
}
