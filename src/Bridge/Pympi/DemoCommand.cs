using System.CommandLine;
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

    /// <summary>The definition of <c>pympi demo</c>.</summary>
    public static Command Create()
    {
        var ranks = new Option<int>("--ranks", "-n")
        {
            Description = "number of MPI ranks",
            HelpName = "N",
            DefaultValueFactory = _ => 4,
            CustomParser = r => Cli.WholeNumber(r, 1, "a positive number of ranks"),
        };
        var sweep = new Option<bool>("--sweep") { Description = "run the C#-only parameter sweep instead of the mixed demo" };
        var mpich = new Option<bool>("--mpich") { Description = "launch with MPICH (with --sweep)" };
        var command = new Command("demo", "the multi-rank demo (C# and Python in every rank)") { ranks, sweep, mpich };
        command.Validators.Add(r =>
        {
            if (r.GetValue(mpich) && !r.GetValue(sweep))
                r.AddError("the mixed demo embeds Debian's mpi4py, which is built on Open MPI; use --mpich with --sweep.");
        });
        command.SetAction((result, _) => RunAsync(
            result.GetValue(ranks), result.GetValue(mpich) ? MpiFlavor.Mpich : MpiFlavor.OpenMpi,
            result.GetValue(sweep) ? "ParameterSweep" : "MixedDemo"));
        return command;
    }

    private static async Task<int> RunAsync(int ranks, MpiFlavor flavor, string example)
    {
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
