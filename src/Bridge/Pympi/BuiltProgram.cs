namespace PyMpiBridge.Tool;

/// <summary>Programs of the checkout that the tool launches (the demos, the benchmarks), built beside it under artifacts/.</summary>
internal static class BuiltProgram
{
    /// <summary>
    /// <c>artifacts/bin/NAME/release/NAME.dll</c> under PYMPI_HOME (set by ./pympi) or above this tool's directory;
    /// <paramref name="role"/> names it in the error when it is not built.
    /// </summary>
    public static string Find(string name, string role)
    {
        var roots = new List<string>();
        if (Environment.GetEnvironmentVariable("PYMPI_HOME") is { Length: > 0 } home) roots.Add(home);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PyMpiBridge.sln"))) roots.Add(dir.FullName);
        foreach (string root in roots)
        {
            string dll = Path.Combine(root, "artifacts", "bin", name, "release", name + ".dll");
            if (File.Exists(dll)) return dll;
        }
        throw new UsageException($"the {role} ({name}.dll) is not built; run 'make build' first.");
    }
}
