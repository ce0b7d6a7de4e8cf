namespace PyMpiBridge.Benchmarks;

/// <summary>
/// The benchmark program: <c>SUITE [--json FILE] [suite options]</c> (what <c>pympi bench</c> passes on), or the hidden
/// <c>worker SUITE ...</c> a suite starts inside each MPI rank. Messages carry the <c>pympi bench</c> prefix users typed.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            return args.FirstOrDefault() == BenchWorkerCommand.Name
                ? BenchWorkerCommand.Run(args[1..])
                : await BenchCommand.RunAsync(args);
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            Console.Error.WriteLine($"pympi bench: {e.Message}");
            Console.Error.WriteLine("Run 'pympi --help' for usage.");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"pympi bench: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("PYMPI_DEBUG") is "1" or "true") Console.Error.WriteLine(e);
            return 1;
        }
    }
}

/// <summary>Bad command-line input: the message says what was wrong and what to do.</summary>
public sealed class UsageException(string message) : Exception(message);
