using System.CommandLine;
using System.CommandLine.Invocation;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// The benchmark program: <c>SUITE [--json FILE] [suite options]</c> (what <c>pympi bench</c> passes on), or the hidden
/// <c>worker SUITE ...</c> a suite starts inside each MPI rank. The command line is defined once (System.CommandLine,
/// <see cref="BenchCommand.CreateRoot"/>); messages and help carry the <c>pympi bench</c> prefix users typed.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.FirstOrDefault() == BenchWorkerCommand.Name)
            return Guard("pympi bench worker", () => Task.FromResult(BenchWorkerCommand.Run(args[1..]))).Result;

        var result = BenchCommand.CreateRoot().Parse(["bench", .. args], new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Action is ParseErrorAction)
        {
            foreach (var e in result.Errors) Console.Error.WriteLine($"pympi bench: {e.Message}");
            string command = result.CommandResult.Command.Name == "bench" ? "bench" : $"bench {result.CommandResult.Command.Name}";
            Console.Error.WriteLine($"Run 'pympi {command} --help' for usage.");
            return 2;
        }
        return await Guard("pympi bench", () => result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
    }

    private static async Task<int> Guard(string prefix, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            Console.Error.WriteLine($"{prefix}: {e.Message}");
            Console.Error.WriteLine("Run 'pympi bench --help' for usage.");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{prefix}: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("PYMPI_DEBUG") is "1" or "true") Console.Error.WriteLine(e);
            return 1;
        }
    }
}

/// <summary>Bad command-line input: the message says what was wrong and what to do.</summary>
public sealed class UsageException(string message) : Exception(message);
