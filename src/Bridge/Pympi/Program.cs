namespace PyMpiBridge.Tool;

/// <summary>Entry point of the <c>pympi</c> tool: dispatches to one command per file.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        string command = args[0];
        string[] rest = args[1..];
        try
        {
            return command switch
            {
                "bench" => await BenchCommand.RunAsync(rest),
                "demo" => await DemoCommand.RunAsync(rest),
                "run" => await RunCommand.RunAsync(rest),
                "cluster" => await ClusterCommand.RunAsync(rest),
                "info" => InfoCommand.Run(rest),
                RunCommand.RankCommandName => RunCommand.RankMain(rest),
                _ => UnknownCommand(command),
            };
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            Console.Error.WriteLine($"pympi {command}: {e.Message}");
            Console.Error.WriteLine("Run 'pympi --help' for usage.");
            return 2;
        }
        catch (Exception e)
        {
            // Anything else is a failure we could not recover from: say what it was, not a stack dump,
            // unless PYMPI_DEBUG asks for the full trace.
            Console.Error.WriteLine($"pympi {command}: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("PYMPI_DEBUG") is "1" or "true") Console.Error.WriteLine(e);
            return 1;
        }
    }

    private static int UnknownCommand(string command)
    {
        Console.Error.WriteLine($"pympi: unknown command '{command}'.");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    public const string Usage = """
        usage: pympi <command> [options]

        commands:
          run -n N [--python PATH] [--mpi openmpi|mpich] [--timeout S] [--mpiexec-arg ARG]...
              (script.py | -m module | -c code) [args...]
                                        run an mpi4py program on N ranks under the .NET host
          cluster start -n N [--profile P] [--cluster-id ID] [--daemon] [--ip ADDR] [--db memory|sqlite|none]
          cluster stop [--profile P] [--cluster-id ID] [--all] | cluster list
                                        a controller and N MPI engines for pympibridge.parallel (ipcluster)
          info [--python PATH]          MPI and Python found here, versions, and what to install
          demo [--sweep]                the multi-rank demo (4 ranks, C# and Python)
          bench mpi|python|bridge|parallel|all [--json FILE]
                                        benchmarks against native C and the peers
        """;
}

/// <summary>Bad command-line input: the message says what was wrong and what to do.</summary>
public sealed class UsageException(string message) : Exception(message);
