namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Where the repository's benchmark sources and build outputs are. The suites need the sources
/// (C and Python programs are part of the repo, not of this program), so the program must find the checkout.
/// </summary>
internal static class RepoLayout
{
    private const string Marker = "PyMpiBridge.sln";

    /// <summary>The hidden command of the pympi tool that each rank of <c>pympi run</c> starts with (RunCommand.RankCommandName).</summary>
    public const string PympiRankCommand = "__rank";

    /// <summary>
    /// The repository root: <c>PYMPI_HOME</c> (set by the <c>./pympi</c> script), else the first
    /// directory above this program that holds <c>PyMpiBridge.sln</c>.
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

    /// <summary>
    /// The pympi tool whose ranks are measured: <c>PYMPI_TOOL</c>, which <c>pympi bench</c> sets to its own dll (under
    /// <c>./pympi</c> the ReadyToRun publish users' ranks start from), else the plain build in the checkout.
    /// </summary>
    public static string PympiDll()
    {
        string dll = Environment.GetEnvironmentVariable("PYMPI_TOOL") is { Length: > 0 } tool
            ? tool
            : Path.Combine(FindRoot(), "artifacts", "bin", "Pympi", "release", "pympi.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"the pympi tool is not built at {dll}; run 'make build'.", dll);
    }
}
