using System.Diagnostics;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi demo [--ranks N] [--mpich]</c>: launches the C# parameter-sweep example
/// (examples/csharp/ParameterSweep) on 4 MPI ranks. No build step: the example is built with pympi
/// (project reference). Output goes straight to the terminal; the job's exit code is ours.
/// </summary>
public static class DemoCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<int> RunAsync(string[] args)
    {
        int ranks = 4;
        var flavor = MpiFlavor.OpenMpi;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--ranks" or "-n" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n) && n >= 1:
                    ranks = n;
                    i++;
                    break;
                case "--mpich":
                    flavor = MpiFlavor.Mpich;
                    break;
                default:
                    throw new UsageException($"unknown demo option '{args[i]}'. Usage: pympi demo [--ranks N] [--mpich]");
            }
        }

        string dll = FindExample();
        var psi = MpiLauncher.CreateStartInfo(ranks, "dotnet", [dll], flavor,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        // The demo talks to the user directly: inherit the terminal instead of capturing.
        psi.RedirectStandardOutput = false;
        psi.RedirectStandardError = false;
        psi.RedirectStandardInput = false;
        Console.WriteLine($"pympi demo: {psi.FileName} {string.Join(' ', psi.ArgumentList)}");

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Console.Error.WriteLine($"pympi demo: the job did not finish within {Timeout.TotalSeconds:F0} s and was stopped.");
            return 124;
        }
        if (process.ExitCode != 0)
            Console.Error.WriteLine($"pympi demo: the MPI job failed with exit code {process.ExitCode}.");
        return process.ExitCode;
    }

    /// <summary>The built example, found under PYMPI_HOME (set by ./pympi) or above this tool's directory.</summary>
    private static string FindExample()
    {
        var roots = new List<string>();
        if (Environment.GetEnvironmentVariable("PYMPI_HOME") is { Length: > 0 } home) roots.Add(home);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PyMpiBridge.sln"))) roots.Add(dir.FullName);
        foreach (string root in roots)
        {
            string dll = Path.Combine(root, "artifacts", "bin", "ParameterSweep", "release", "ParameterSweep.dll");
            if (File.Exists(dll)) return dll;
        }
        throw new UsageException("the demo program (ParameterSweep.dll) is not built; run 'make build' first.");
    }
}
