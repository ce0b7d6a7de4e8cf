namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>What the worker tests launch under mpiexec: the built benchmark program and pympi tool, each job limited to 60 s.</summary>
internal static class BuiltPrograms
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string BenchmarksDll =>
        Path.Combine(RepoLayout.FindRoot(), "artifacts", "bin", "PyMpiBridge.Benchmarks", "release", "PyMpiBridge.Benchmarks.dll");

    public static string PympiDll => RepoLayout.PympiDll();
}
