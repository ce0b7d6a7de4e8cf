using System.CommandLine;
using System.CommandLine.Invocation;

namespace PyMpiBridge.Tool;

/// <summary>
/// Entry point of the <c>pympi</c> tool: parses with the definitions in <see cref="Cli"/> (one per command, one file
/// per command), reports bad input with exit code 2, and runs the command.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = Cli.CreateRoot();
        var result = Cli.Parse(root, args);
        if (result.Action is ParseErrorAction) return Cli.ReportErrors(result, Console.Error);
        string command = Cli.CommandPath(result);
        try
        {
            return await result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            Console.Error.WriteLine($"Run '{command} --help' for usage.");
            return 2;
        }
        catch (Exception e)
        {
            // Anything else is a failure we could not recover from: say what it was, not a stack dump,
            // unless PYMPI_DEBUG asks for the full trace.
            Console.Error.WriteLine($"{command}: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("PYMPI_DEBUG") is "1" or "true") Console.Error.WriteLine(e);
            return 1;
        }
    }
}
