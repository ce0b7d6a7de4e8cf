using PyMpiBridge.Hosting;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi run -n N [options] (script.py | -m module | -c code) [args...]</c>: runs an unmodified mpi4py
/// program on N ranks, each rank a .NET host embedding CPython over one shared MPI. With N = 1 the rank runs in
/// this process, without mpiexec.
/// </summary>
public static class RunCommand
{
    /// <summary>Hidden command each launched rank runs: <c>pympi __rank (script | -m mod | -c code) [args]</c>.</summary>
    public const string RankCommandName = "__rank";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = RunOptions.Parse(args);
        if (options.Ranks == 1 && options.MpiexecArguments.Count == 0 && options.Flavor == MpiFlavor.OpenMpi && options.Timeout is null)
            return RunRank(options.Target, options.PythonExecutable);

        var environment = new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" };
        string[] python = options.PythonExecutable is null ? [] : ["--python", Path.GetFullPath(options.PythonExecutable)];
        var psi = MpiLauncher.CreateStartInfo(
            options.Ranks, DotnetHost, [ToolAssembly, RankCommandName, .. python, .. options.Target.ToCommandLine()],
            options.Flavor, options.MpiexecArguments, environment);
        return await MpiLauncher.RunAttachedAsync(psi, options.Timeout);
    }

    /// <summary>The body of one rank: start the session, run the program, shut down in order.</summary>
    public static int RankMain(string[] args)
    {
        var options = RunOptions.Parse(args);
        return RunRank(options.Target, options.PythonExecutable);
    }

    private static int RunRank(PythonTarget target, string? python)
    {
        using var session = PyMpi.Start([.. target.Argv], new RankSessionOptions { PythonExecutable = python, PythonExecutableSource = "--python" });
        return PythonProgramRunner.Run(session, target);
    }

    /// <summary>The dotnet host running this tool (ranks are started the same way).</summary>
    private static string DotnetHost => Environment.ProcessPath ?? "dotnet";

    private static string ToolAssembly => typeof(RunCommand).Assembly.Location;
}
