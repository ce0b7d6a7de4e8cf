using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// Runs one named scenario in this rank: <c>PyMpiBridge.ScenarioHost name</c>. Every check prints one line
/// <c>rank R: check ok detail</c> or <c>rank R: check FAIL detail</c>; the integration tests read every
/// rank's lines. An unexpected exception prints <c>rank R: scenario FAIL ...</c> and aborts the job, so
/// the other ranks never hang.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Scenario> s_scenarios = new(StringComparer.Ordinal);

    public static int Main(string[] args)
    {
        PointToPointScenarios.Register(Add);
        NonblockingScenarios.Register(Add);
        CollectiveScenarios.Register(Add);
        CommunicatorScenarios.Register(Add);
        ErrorScenarios.Register(Add);
        EnvironmentScenarios.Register(Add);
        PingPongScenario.Register(Add);
        BridgeScenarios.Register(Add);
        JobFailureScenarios.Register(Add);
        LifetimeScenarios.Register(Add);
        ElementTypeScenarios.Register(Add);
        DataFrameScenarios.Register(Add);

        // Python process-lifetime scenarios run in a fresh process without MPI (exit modes, venv embedding).
        if (args.Length > 0 && PythonScenarios.Run(args[0], args[1..]) is { } exitCode) return exitCode;

        if (args.Length == 0 || !s_scenarios.TryGetValue(args[0], out var scenario))
        {
            Console.Error.WriteLine($"usage: PyMpiBridge.ScenarioHost <scenario>; scenarios: {string.Join(", ", s_scenarios.Keys.Order())}");
            return 2;
        }

        ScenarioContext? context = null;
        try
        {
            if (scenario.InitializeMpi) MpiEnvironment.Init();
            context = new ScenarioContext(scenario.InitializeMpi ? Comm.World.Rank : RankFromLauncher());
            scenario.Run(context);
            if (scenario.InitializeMpi) MpiEnvironment.Finalize();
        }
        catch (Exception e)
        {
            int rank = context?.Rank ?? (MpiEnvironment.IsInitialized ? Comm.World.Rank : 0);
            ScenarioContext.WriteLine($"rank {rank}: scenario FAIL {e.GetType().Name}: {OneLine(e.Message)}");
            Console.Error.WriteLine($"rank {rank}: {e}");
            Console.Out.Flush();
            if (MpiEnvironment.IsInitialized) MpiEnvironment.Abort(3);
            return 3;
        }
        Console.Out.Flush();
        return context.Failures == 0 ? 0 : 1;
    }

    private static void Add(string name, Action<ScenarioContext> run, bool initializeMpi = true)
        => s_scenarios.Add(name, new Scenario(run, initializeMpi));

    /// <summary>The rank the launcher assigned, for scenarios that start before MPI is initialized.</summary>
    private static int RankFromLauncher()
    {
        string? value = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") ?? Environment.GetEnvironmentVariable("PMI_RANK");
        return int.TryParse(value, out int rank) ? rank : 0;
    }

    internal static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private sealed record Scenario(Action<ScenarioContext> Run, bool InitializeMpi);
}

/// <summary>Registers scenarios: name, body, and whether the host initializes MPI first.</summary>
public delegate void ScenarioRegistry(string name, Action<ScenarioContext> run, bool initializeMpi = true);
