using PyMpiBridge.Launching;

namespace PyMpiBridge.Parallel;

/// <summary>
/// How the controller starts engines: the command that runs the <c>pympi</c> tool, passed as <c>PYMPI_COMMAND</c>
/// (read by <c>pympibridge.parallel._launch</c>). Found as: <c>PYMPI_COMMAND</c> already set (then inherited: null); <c>pympi.dll</c> beside
/// this program; <c>$PYMPI_HOME/pympi</c>; a source checkout above this program (its built <c>pympi.dll</c>, else its
/// <c>./pympi</c> script); null otherwise (the Python side then tries its own defaults and says what to do).
/// </summary>
internal static class PympiTool
{
    public static string[]? Command()
    {
        if (Environment.GetEnvironmentVariable("PYMPI_COMMAND") is { Length: > 0 }) return null;
        string beside = Path.Combine(AppContext.BaseDirectory, "pympi.dll");
        if (File.Exists(beside)) return ParallelLayerEnvironment.Dotnet(beside);
        if (Environment.GetEnvironmentVariable("PYMPI_HOME") is { Length: > 0 } home && File.Exists(Path.Combine(home, "pympi")))
            return [Path.Combine(home, "pympi")];
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "PyMpiBridge.sln"))) continue;
            foreach (string config in new[] { "release", "debug" })
            {
                string built = Path.Combine(dir.FullName, "artifacts", "bin", "Pympi", config, "pympi.dll");
                if (File.Exists(built)) return ParallelLayerEnvironment.Dotnet(built);
            }
            string script = Path.Combine(dir.FullName, "pympi");
            if (File.Exists(script)) return [script];
        }
        return null;
    }
}
