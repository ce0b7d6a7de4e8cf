using PyMpiBridge.Hosting;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Tool;

/// <summary>
/// What <c>pympi run</c> was asked to do (the command is defined in <see cref="RunCommand"/>).
/// Everything after the script (or the module name, or the code) belongs to the Python program,
/// exactly as with <c>python</c> itself, so scripts see the <c>sys.argv</c> they always saw. <see cref="Launcher"/> null
/// means the default (mpiexec); <see cref="RanksGiven"/> false means <see cref="Ranks"/> is the default, which a Slurm
/// allocation replaces with its task count (<see cref="RankPlacement"/>).
/// </summary>
public sealed record RunOptions(
    int Ranks,
    PythonTarget Target,
    string? PythonExecutable,
    MpiFlavor Flavor,
    IReadOnlyList<string> MpiexecArguments,
    TimeSpan? Timeout,
    MpiHosts Hosts,
    RankLauncher? Launcher = null,
    bool RanksGiven = true)
{
    /// <summary>
    /// Parses the words after <c>pympi run</c> with the command's definition; throws <see cref="ArgumentException"/>
    /// saying what was wrong (every parse error, one per line; or what is wrong with the program).
    /// </summary>
    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        var result = Cli.Parse(Cli.CreateRoot(), ["run", .. args]);
        if (result.Errors.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, result.Errors.Select(e => e.Message)));
        return RunCommand.Options(result);
    }
}
