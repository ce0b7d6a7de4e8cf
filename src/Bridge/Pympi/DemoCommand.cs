using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi demo [--ranks N] [--sweep] [--mpich]</c>: the mixed C#/Python demo (examples/csharp/MixedDemo) on 4 MPI
/// ranks; <c>--sweep</c> runs the C#-only parameter sweep (examples/csharp/ParameterSweep) instead. No build step:
/// the examples are built with pympi (project references). Output goes straight to the terminal; the job's exit
/// code is ours.
/// </summary>
public static class DemoCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<int> RunAsync(string[] args)
    {
        int ranks = 4;
        var flavor = MpiFlavor.OpenMpi;
        string example = "MixedDemo";
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
                case "--sweep":
                    example = "ParameterSweep";
                    break;
                default:
                    throw new UsageException($"unknown demo option '{args[i]}'. Usage: pympi demo [--ranks N] [--sweep] [--mpich]");
            }
        }
        if (flavor == MpiFlavor.Mpich && example == "MixedDemo")
            throw new UsageException("the mixed demo embeds Debian's mpi4py, which is built on Open MPI; use --mpich with --sweep.");

        string dll = BuiltProgram.Find(example, "demo program");
        var psi = MpiLauncher.CreateStartInfo(ranks, "dotnet", [dll], flavor,
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" });
        Console.WriteLine($"pympi demo: {psi.FileName} {string.Join(' ', psi.ArgumentList)}");
        int exitCode = await MpiLauncher.RunAttachedAsync(psi, Timeout);
        if (exitCode != 0)
            Console.Error.WriteLine($"pympi demo: the MPI job failed with exit code {exitCode}.");
        return exitCode;
    }
}
