namespace PyMpiBridge.ScenarioHost;

/// <summary>Runs one named scenario in this rank: <c>ScenarioHost name [args]</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && PythonScenarios.Run(args[0], args[1..]) is { } exitCode) return exitCode;
        Console.Error.WriteLine("scenario host: no scenarios yet");
        return 2;
    }
}
