using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Diagnostics;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi bench SUITE [--json FILE] [suite options...]</c>: runs the benchmark program of the checkout
/// (benchmarks/PyMpiBridge.Benchmarks, built with <c>make build</c>) with the same arguments, on this terminal.
/// The suites live there, not in the tool: they need the checkout's C and Python sources and a compiler. The suite
/// options are defined (and checked, and explained by <c>pympi bench SUITE --help</c>) by that program.
/// </summary>
public static class BenchCommand
{
    /// <summary>The suites of the benchmark program, for help and completion.</summary>
    public static readonly string[] Suites = ["mpi", "python", "bridge", "parallel", "all"];

    /// <summary>The definition of <c>pympi bench</c>.</summary>
    public static Command Create()
    {
        var suite = new Argument<string>("suite") { Description = "what to measure" }.AcceptOnlyFromAmong(Suites);
        var json = new Option<string?>("--json") { Description = "also write every measurement to this JSON file", HelpName = "FILE" };
        var command = new Command("bench", "benchmarks against native C and the peers (suite options: pympi bench SUITE --help)")
        {
            suite, json,
        };
        command.TreatUnmatchedTokensAsErrors = false; // the suite's options: the benchmark program checks them
        command.SetAction((result, _) => RunAsync(BenchmarkArguments(result)));
        return command;
    }

    /// <summary>
    /// <c>pympi bench SUITE --help</c> is the benchmark program's help for that suite (its options are defined there);
    /// every other <c>--help</c> is the tool's.
    /// </summary>
    internal static void ForwardHelp(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new SuiteHelpAction((SynchronousCommandLineAction)help.Action!);
    }

    private sealed class SuiteHelpAction(SynchronousCommandLineAction toolHelp) : AsynchronousCommandLineAction
    {
        public override Task<int> InvokeAsync(ParseResult result, CancellationToken cancellationToken = default)
            => result.CommandResult.Command.Name == "bench" && result.CommandResult.Children.Any(c => c is System.CommandLine.Parsing.ArgumentResult { Tokens.Count: > 0 })
                ? RunAsync(BenchmarkArguments(result))
                : Task.FromResult(toolHelp.Invoke(result));
    }

    /// <summary>The words after <c>bench</c>, as typed: the benchmark program gets the same command line.</summary>
    internal static string[] BenchmarkArguments(ParseResult result)
        => result.Tokens.SkipWhile(t => t.Value != "bench").Skip(1).Select(t => t.Value).ToArray();

    /// <summary>Runs the benchmark program with <paramref name="args"/>; its exit code is ours.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
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
