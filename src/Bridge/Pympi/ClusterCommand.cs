using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using PyMpiBridge.Python;
using PyMpiBridge.Launching;
using PyMpiBridge.Options;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi cluster start|stop|list|engines</c>: the <c>ipcluster</c> (and <c>ipengine</c>) of this product. The options are defined and checked
/// here; the controller and the command's logic live in the Python package (<c>pympibridge.parallel._cli</c>), run
/// with the interpreter the ranks embed and given every option explicitly. This command finds that interpreter and
/// the package and tells the controller to start engines with this very tool
/// (<c>pympi run -n N -m pympibridge.parallel._engine</c>), so one installation serves both.
/// </summary>
public static class ClusterCommand
{
    private static readonly Option<string?> PythonOption = new("--python")
    {
        Description = "Python executable for the controller and the engines (default: PYMPI_PYTHON, then a python3 that imports mpi4py)",
        HelpName = "PATH",
        Recursive = true,
    };

    private static readonly Option<int> Engines = new("-n", "--n")
    {
        Description = "number of engines (MPI ranks); 0 starts the controller alone (engines join with 'pympi cluster engines')",
        HelpName = "N",
        Required = true,
        CustomParser = r => Cli.WholeNumber(r, 0, "a number of engines of at least 0"),
    };
    private static readonly Option<int> JoiningEngines = new("-n", "--n")
    {
        Description = "number of engines (MPI ranks) to start here",
        HelpName = "N",
        Required = true,
        CustomParser = r => Cli.WholeNumber(r, 1, "a number of engines of at least 1"),
    };
    private static readonly Option<string> Connect = new("--connect")
    {
        Description = "the cluster's connection file, copied from the controller's host (ipcontroller-engine.json)",
        HelpName = "FILE",
        Required = true,
    };
    private static readonly Option<string> EngineIp = new("--ip")
    {
        Description = "address the engines listen on ('auto': the one this host reaches the controller from)",
        HelpName = "ADDR",
        DefaultValueFactory = _ => "auto",
    };
    private static readonly Option<string?> EngineLocation = new("--location") { Description = "address clients use to reach the engines", HelpName = "ADDR" };
    private static readonly Option<string[]> RunArg = new("--run-arg")
    {
        Description = "one more word for 'pympi run' (repeat: --run-arg --hostfile --run-arg hosts)",
        HelpName = "ARG",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<string> StartProfile = Profile(), StopProfile = Profile();
    private static readonly Option<string> StartClusterId = ClusterId(), StopClusterId = ClusterId();
    private static readonly Option<bool> Daemon = new("--daemon") { Description = "return once the cluster is ready; it keeps running" };
    private static readonly Option<string> Ip = new("--ip")
    {
        Description = "address to listen on ('*' opens the cluster to other hosts)",
        HelpName = "ADDR",
        DefaultValueFactory = _ => "127.0.0.1",
    };
    private static readonly Option<string?> Location = new("--location") { Description = "address other hosts use to reach this one", HelpName = "ADDR" };
    private static readonly Option<string> Db = OptionShapes.OneOf("--db", "task database", "memory", "sqlite", "none");
    private static readonly Option<double> StartTimeout = Timeout("seconds to wait for the engines", 120);
    private static readonly Option<string> Launcher = OptionShapes.OneOf("--launcher",
        "what starts the engines: local (pympi run here) or slurm (a batch job of N tasks, stopped with scancel)", "local", "slurm");
    private static readonly Option<string[]> SbatchArg = new("--sbatch-arg")
    {
        Description = "one more option for the engines' batch job with --launcher slurm (repeat: --sbatch-arg=--time=30 --sbatch-arg=--partition=debug)",
        HelpName = "ARG",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<bool> All = new("--all") { Description = "stop every cluster" };
    private static readonly Option<double> StopTimeout = Timeout("seconds to wait for the controller to exit before killing it", 20);

    /// <summary>The definition of <c>pympi cluster</c> and its subcommands.</summary>
    public static Command Create()
    {
        var start = new Command("start", "start a controller and N MPI engines")
        {
            Engines, StartProfile, StartClusterId, Daemon, Ip, Location, Db, StartTimeout, Launcher, SbatchArg,
        };
        start.Validators.Add(r =>
        {
            if (r.GetValue(SbatchArg) is { Length: > 0 } && r.GetValue(Launcher) != "slurm")
                r.AddError("--sbatch-arg applies to --launcher slurm only.");
        });
        var stop = new Command("stop", "stop a cluster (engines and controller)") { StopProfile, StopClusterId, All, StopTimeout };
        var list = new Command("list", "list clusters and whether they run");
        var engines = new Command("engines", "start N MPI engines here that join a running cluster, e.g. from another host (ipengine)")
        {
            Connect, JoiningEngines, EngineIp, EngineLocation, RunArg,
        };
        foreach (var command in new[] { start, stop, list, engines })
            command.SetAction((result, _) => RunPythonAsync(result.GetValue(PythonOption), PythonArguments(result)));
        return new Command("cluster", "a controller and N MPI engines for pympibridge.parallel (ipcluster)") { PythonOption, start, stop, list, engines };
    }

    /// <summary>
    /// The words <c>pympibridge.parallel._cli</c> gets for a parsed <c>pympi cluster start|stop|list</c>: every option
    /// explicitly, so what <c>--help</c> shows as a default is what runs.
    /// </summary>
    internal static List<string> PythonArguments(ParseResult result)
    {
        string Text<T>(Option<T> option) => result.GetValue(option)?.ToString() ?? "";
        switch (result.CommandResult.Command.Name)
        {
            case "start":
                List<string> start =
                [
                    "start", "-n", result.GetValue(Engines).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--profile", Text(StartProfile), "--cluster-id", Text(StartClusterId), "--ip", Text(Ip), "--db", Text(Db),
                    "--timeout", Cli.Seconds(result.GetValue(StartTimeout)),
                ];
                if (result.GetValue(Location) is { } location) start.AddRange(["--location", location]);
                if (result.GetValue(Daemon)) start.Add("--daemon");
                start.AddRange(["--launcher", Text(Launcher)]);
                foreach (string arg in result.GetValue(SbatchArg) ?? []) start.Add("--sbatch-arg=" + arg);
                return start;
            case "stop":
                List<string> stop =
                [
                    "stop", "--profile", Text(StopProfile), "--cluster-id", Text(StopClusterId),
                    "--timeout", Cli.Seconds(result.GetValue(StopTimeout)),
                ];
                if (result.GetValue(All)) stop.Add("--all");
                return stop;
            case "list":
                return ["list"];
            case "engines":
                List<string> engines =
                [
                    "engines", "--connect", Path.GetFullPath(Text(Connect)),
                    "-n", result.GetValue(JoiningEngines).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--ip", Text(EngineIp),
                ];
                if (result.GetValue(EngineLocation) is { } engineLocation) engines.AddRange(["--location", engineLocation]);
                foreach (string word in result.GetValue(RunArg) ?? []) engines.Add("--mpi-arg=" + word);
                return engines;
            default:
                throw new InvalidOperationException($"not a cluster command: {result.CommandResult.Command.Name}");
        }
    }

    private static Option<string> Profile() => new("--profile")
    {
        Description = "profile the cluster belongs to",
        HelpName = "NAME",
        DefaultValueFactory = _ => "default",
    };

    private static Option<string> ClusterId() => new("--cluster-id")
    {
        Description = "tells clusters of one profile apart",
        HelpName = "ID",
        DefaultValueFactory = _ => "",
    };

    private static Option<double> Timeout(string description, double seconds) => new("--timeout")
    {
        Description = description,
        HelpName = "SECONDS",
        DefaultValueFactory = _ => seconds,
        CustomParser = Cli.PositiveSeconds,
    };

    private static async Task<int> RunPythonAsync(string? python, IReadOnlyList<string> args)
    {
        var interpreter = PythonDiscovery.Locate(new PythonOptions { PythonExecutable = python, PythonExecutableSource = "--python" });
        var psi = new ProcessStartInfo(interpreter.Executable) { UseShellExecute = false };
        psi.ArgumentList.Add("-m");
        psi.ArgumentList.Add("pympibridge.parallel._cli");
        foreach (string a in args) psi.ArgumentList.Add(a);
        // the engines are started with this very tool
        ParallelLayerEnvironment.Apply(psi.Environment, ParallelLayerEnvironment.Dotnet(typeof(ClusterCommand).Assembly.Location));
        if (python is not null) psi.Environment["PYMPI_PYTHON"] = Path.GetFullPath(python);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {interpreter.Executable}");
        // Ctrl-C reaches the child too (same process group); it stops the cluster and exits, and so do we.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
