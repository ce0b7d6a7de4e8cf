using System.CommandLine;
using System.CommandLine.Parsing;
using PyMpiBridge.Hosting;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi run -n N [options] (script.py | -m module | -c code) [args...]</c>: runs an unmodified mpi4py
/// program on N ranks, each rank a .NET host embedding CPython over one shared MPI. With N = 1 the rank runs in
/// this process, without mpiexec. As with <c>python</c>, the words after the script (or <c>-m module</c>, or
/// <c>-c code</c>) are the program's, untouched: <c>pympi run -n 2 s.py -n 5 --help</c> gives s.py <c>-n 5 --help</c>.
/// </summary>
public static class RunCommand
{
    /// <summary>Hidden command each launched rank runs: <c>pympi __rank [--python P] (script | -m mod | -c code) [args]</c>.</summary>
    public const string RankCommandName = "__rank";

    /// <summary>Options after which the program's words begin (their value is the program).</summary>
    internal static readonly IReadOnlySet<string> TargetOptionNames = new HashSet<string> { "-m", "-c" };

    private static readonly Option<int> RanksOption = new("-n", "-np", "--np")
    {
        Description = "number of MPI ranks; 1 runs in this process without mpiexec",
        HelpName = "N",
        DefaultValueFactory = _ => 1,
        CustomParser = r => Cli.WholeNumber(r, 1, "a positive number of ranks"),
    };

    private static readonly Option<string?> PythonOption = new("--python")
    {
        Description = "Python executable to embed (default: PYMPI_PYTHON, then a python3 that imports mpi4py)",
        HelpName = "PATH",
    };

    private static readonly Option<MpiFlavor?> MpiOption = new("--mpi")
    {
        Description = "MPI to launch with (default: openmpi)",
        HelpName = "openmpi|mpich",
        CustomParser = r => r.Tokens[0].Value.ToLowerInvariant() switch
        {
            "openmpi" or "ompi" or "open-mpi" => MpiFlavor.OpenMpi,
            "mpich" => MpiFlavor.Mpich,
            string other => Error<MpiFlavor?>(r, $"--mpi must be openmpi or mpich, got '{other}'."),
        },
    };

    private static readonly Option<double?> TimeoutOption = new("--timeout")
    {
        Description = "end the whole job after this many seconds",
        HelpName = "SECONDS",
        CustomParser = r => Cli.PositiveSeconds(r),
    };

    private static readonly Option<string[]> MpiexecArgOption = new("--mpiexec-arg")
    {
        Description = "one more word for mpiexec (repeat for several: --mpiexec-arg --bind-to --mpiexec-arg none)",
        HelpName = "ARG",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string?> ModuleOption = new("-m")
    {
        Description = "run a module as a script, as python -m (the words after it are the module's)",
        HelpName = "module",
    };

    private static readonly Option<string?> CodeOption = new("-c")
    {
        Description = "run this code, as python -c (the words after it are the program's)",
        HelpName = "code",
    };

    private static readonly Argument<string?> ScriptArgument = new("script.py")
    {
        Description = "the Python script to run",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Argument<string[]> ProgramArguments = new("args")
    {
        Description = "the program's arguments (sys.argv[1:]), passed untouched: options after the script are the script's",
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>The definition of <c>pympi run</c>.</summary>
    public static Command Create()
    {
        var command = Define("run", "run an mpi4py program on N ranks, each a .NET host with CPython inside");
        command.SetAction((result, _) => RunAsync(Options(result)));
        return command;
    }

    /// <summary>The hidden command a launched rank runs, with the same options.</summary>
    public static Command CreateRankCommand()
    {
        var command = Define(RankCommandName, "one rank of 'pympi run' (started by it under mpiexec)");
        command.Hidden = true;
        command.SetAction(result => RankMain(Options(result)));
        return command;
    }

    /// <summary>Whether <paramref name="command"/> hands the words after its program to that program.</summary>
    internal static bool StartsProgram(Command command) => command.Name is "run" or RankCommandName;

    private static Command Define(string name, string description)
    {
        var command = new Command(name, description)
        {
            RanksOption, PythonOption, MpiOption, TimeoutOption, MpiexecArgOption, ModuleOption, CodeOption,
            ScriptArgument, ProgramArguments,
        };
        return command;
    }

    /// <summary>
    /// The options of a parsed <c>run</c> (or <c>__rank</c>) command line without errors. The program is checked
    /// here, after the options (System.CommandLine stops at a command validator's error): one of script, -m, -c (the
    /// words after the first are the program's), and a script must exist; else <see cref="ArgumentException"/>.
    /// </summary>
    internal static RunOptions Options(ParseResult result)
    {
        // With -m or -c, every word after the target is the program's, including the first (parsed as "script").
        string? script = result.GetValue(ScriptArgument);
        string[] rest = result.GetValue(ProgramArguments) ?? [];
        bool hasModule = result.GetResult(ModuleOption) is { Implicit: false }, hasCode = result.GetResult(CodeOption) is { Implicit: false };
        if (!hasModule && !hasCode)
        {
            if (script is null)
                throw new ArgumentException("nothing to run: give a script, -m module or -c code.");
            if (script.Length > 1 && script.StartsWith('-') && !File.Exists(script))
                throw new ArgumentException($"unknown option '{script}' (pympi's options go before the program).");
            if (!File.Exists(script))
                throw new ArgumentException($"script '{script}' does not exist (working directory {Environment.CurrentDirectory}).");
        }
        PythonTarget target = result.GetValue(ModuleOption) is { } module ? new(PythonTargetKind.Module, module, [.. Optional(script), .. rest])
            : result.GetValue(CodeOption) is { } code ? new(PythonTargetKind.Code, code, [.. Optional(script), .. rest])
            : new(PythonTargetKind.Script, script!, rest);
        double? timeout = result.GetValue(TimeoutOption);
        return new RunOptions(
            result.GetValue(RanksOption), target, result.GetValue(PythonOption), result.GetValue(MpiOption) ?? MpiFlavor.OpenMpi,
            result.GetValue(MpiexecArgOption) ?? [], timeout is { } s ? TimeSpan.FromSeconds(s) : null);

        static string[] Optional(string? word) => word is null ? [] : [word];
    }

    private static async Task<int> RunAsync(RunOptions options)
    {
        if (options.Ranks == 1 && options.MpiexecArguments.Count == 0 && options.Flavor == MpiFlavor.OpenMpi && options.Timeout is null)
            return RunRank(options.Target, options.PythonExecutable);

        WarmPythonProbe(options.PythonExecutable);
        var environment = new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" };
        string[] python = options.PythonExecutable is null ? [] : ["--python", Path.GetFullPath(options.PythonExecutable)];
        var psi = MpiLauncher.CreateStartInfo(
            options.Ranks, DotnetHost, [ToolAssembly, RankCommandName, .. python, .. options.Target.ToCommandLine()],
            options.Flavor, options.MpiexecArguments, environment);
        return await MpiLauncher.RunAttachedAsync(psi, options.Timeout);
    }

    /// <summary>
    /// Asks the interpreter for its configuration once, here, so the ranks find the answer in the probe cache: N ranks
    /// starting at once would otherwise each run Python to ask (on an oversubscribed node, 32 of them at once did not
    /// answer within the probe's timeout). A Python that cannot be used is left for the ranks to report as usual.
    /// </summary>
    private static void WarmPythonProbe(string? python)
    {
        try { PyMpiBridge.Python.PythonDiscovery.Locate(new() { PythonExecutable = python, PythonExecutableSource = "--python" }); }
        catch (PyMpiBridge.Python.PythonNotFoundException) { }
    }

    /// <summary>The body of one rank: start the session, run the program, shut down in order.</summary>
    private static int RankMain(RunOptions options) => RunRank(options.Target, options.PythonExecutable);

    private static int RunRank(PythonTarget target, string? python)
    {
        using var session = PyMpi.Start([.. target.Argv], new RankSessionOptions { PythonExecutable = python, PythonExecutableSource = "--python" });
        return PythonProgramRunner.Run(session, target);
    }

    private static T Error<T>(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default!;
    }

    /// <summary>The dotnet host running this tool (ranks are started the same way).</summary>
    private static string DotnetHost => Environment.ProcessPath ?? "dotnet";

    private static string ToolAssembly => typeof(RunCommand).Assembly.Location;
}
