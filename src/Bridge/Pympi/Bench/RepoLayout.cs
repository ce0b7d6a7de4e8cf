namespace PyMpiBridge.Tool.Bench;

/// <summary>
/// Where the repository's benchmark sources and build outputs are. The suites need the sources
/// (C and Python programs are part of the repo, not of pympi.dll), so the tool must find the checkout.
/// </summary>
internal static class RepoLayout
{
    private const string Marker = "PyMpiBridge.sln";

    /// <summary>
    /// The repository root: <c>PYMPI_HOME</c> (set by the <c>./pympi</c> script), else the first
    /// directory above pympi.dll that holds <c>PyMpiBridge.sln</c>.
    /// </summary>
    public static string FindRoot()
    {
        string? home = Environment.GetEnvironmentVariable("PYMPI_HOME");
        if (!string.IsNullOrEmpty(home))
        {
            if (File.Exists(Path.Combine(home, Marker))) return Path.GetFullPath(home);
            throw new DirectoryNotFoundException(
                $"PYMPI_HOME='{home}' does not contain {Marker}. Point it at the PyMpiBridge checkout or unset it.");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, Marker))) return dir.FullName;
        throw new DirectoryNotFoundException(
            $"cannot find the PyMpiBridge checkout above {AppContext.BaseDirectory}. Run through ./pympi or set PYMPI_HOME.");
    }
}
