namespace PyMpiBridge.Sharing;

/// <summary>Where the <c>pympibridge</c> Python package sits: copied next to our assemblies at build time.</summary>
internal static class PythonPackage
{
    /// <summary>The folder to put on <c>sys.path</c> so that <c>import pympibridge</c> works in every rank.</summary>
    public static string Directory
    {
        get
        {
            string beside = Path.Combine(AppContext.BaseDirectory, "python");
            if (File.Exists(Path.Combine(beside, "pympibridge", "__init__.py"))) return beside;
            string? home = Environment.GetEnvironmentVariable("PYMPI_HOME");
            if (home is not null && File.Exists(Path.Combine(home, "python", "pympibridge", "__init__.py")))
                return Path.Combine(home, "python");
            throw new DirectoryNotFoundException(
                $"The pympibridge Python package was not found in {beside} (nor in $PYMPI_HOME/python). " +
                "It is copied there by the build: rebuild the project that references PyMpiBridge.");
        }
    }
}
