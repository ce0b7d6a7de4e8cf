using PyMpiBridge.Sharing;

namespace PyMpiBridge.Launching;

/// <summary>
/// The environment of a Python process that runs the parallel layer (<c>pympibridge.parallel</c>'s controller, its
/// command line, a benchmark of it): the package importable, and the command that runs the <c>pympi</c> tool, which the
/// controller uses to start engines (<c>PYMPI_COMMAND</c>, split by Python's <c>shlex</c>). One place for the
/// pympi tool, the parallel C# client and the benchmarks.
/// </summary>
internal static class ParallelLayerEnvironment
{
    /// <param name="env">The child's environment.</param>
    /// <param name="pympiCommand">The words of the command that runs pympi; null leaves <c>PYMPI_COMMAND</c> as inherited.</param>
    public static void Apply(IDictionary<string, string?> env, IEnumerable<string>? pympiCommand)
    {
        string? existing = Environment.GetEnvironmentVariable("PYTHONPATH");
        env["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? PythonPackage.Directory : $"{PythonPackage.Directory}:{existing}";
        if (pympiCommand is not null) env["PYMPI_COMMAND"] = string.Join(' ', pympiCommand.Select(ShellQuote));
    }

    /// <summary>The words that run a pympi.dll with the dotnet host running this process.</summary>
    public static string[] Dotnet(string pympiDll) =>
        [Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet", pympiDll];

    /// <summary>Quotes one word for POSIX shell splitting (Python's shlex reads <c>PYMPI_COMMAND</c> this way).</summary>
    public static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
