using System.Diagnostics;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi bench mpi|python|bridge|all [--json FILE]</c>: runs the benchmark program of the checkout
/// (benchmarks/PyMpiBridge.Benchmarks, built with <c>make build</c>) with the same arguments, on this terminal.
/// The suites live there, not in the tool: they need the checkout's C and Python sources and a compiler.
/// </summary>
public static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { UseShellExecute = false };
        psi.ArgumentList.Add(BuiltProgram.Find("PyMpiBridge.Benchmarks", "benchmark program"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        // The bridge suite measures ranks of this very tool (under ./pympi, the ReadyToRun copy users' ranks start from).
        psi.Environment["PYMPI_TOOL"] = typeof(BenchCommand).Assembly.Location;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the benchmark program.");
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
