using PyMpiBridge.Launching;

namespace PyMpiBridge.Hosting;

/// <summary>
/// Options of <c>pympi run -n N [--python PATH] [--mpi openmpi|mpich] [--timeout SECONDS]
/// [--mpiexec-arg ARG]... (script.py | -m module | -c code) [args...]</c>.
/// Everything after the script (or the module name, or the code) belongs to the Python program,
/// exactly as with <c>python</c> itself, so scripts see the <c>sys.argv</c> they always saw.
/// </summary>
public sealed record RunOptions(
    int Ranks,
    PythonTarget Target,
    string? PythonExecutable,
    MpiFlavor Flavor,
    IReadOnlyList<string> MpiexecArguments,
    TimeSpan? Timeout)
{
    public const string Usage =
        "pympi run -n N [--python PATH] [--mpi openmpi|mpich] [--timeout SECONDS] [--mpiexec-arg ARG]... " +
        "(script.py | -m module | -c code) [args...]";

    /// <summary>Parses the words after <c>pympi run</c>; throws <see cref="ArgumentException"/> saying what was wrong.</summary>
    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        int ranks = 1;
        string? python = null;
        MpiFlavor flavor = MpiFlavor.OpenMpi;
        TimeSpan? timeout = null;
        var mpiexecArgs = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "-n" or "-np" or "--np":
                    string n = Value(args, ref i, a);
                    if (!int.TryParse(n, out ranks) || ranks < 1)
                        throw new ArgumentException($"{a} needs a positive number of ranks, got '{n}'.");
                    break;
                case "--python":
                    python = Value(args, ref i, a);
                    break;
                case "--mpi":
                    string f = Value(args, ref i, a);
                    flavor = f.ToLowerInvariant() switch
                    {
                        "openmpi" or "ompi" or "open-mpi" => MpiFlavor.OpenMpi,
                        "mpich" => MpiFlavor.Mpich,
                        _ => throw new ArgumentException($"--mpi must be openmpi or mpich, got '{f}'."),
                    };
                    break;
                case "--timeout":
                    string t = Value(args, ref i, a);
                    if (!double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds <= 0)
                        throw new ArgumentException($"--timeout needs a positive number of seconds, got '{t}'.");
                    timeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--mpiexec-arg":
                    mpiexecArgs.Add(Value(args, ref i, a));
                    break;
                case "-m":
                    return Done(PythonTargetKind.Module, Value(args, ref i, a), i);
                case "-c":
                    return Done(PythonTargetKind.Code, Value(args, ref i, a), i);
                case "--":
                    if (i + 1 >= args.Count) throw new ArgumentException("nothing to run after '--'. Usage: " + Usage);
                    return Done(PythonTargetKind.Script, args[i + 1], i + 1);
                default:
                    if (a.StartsWith('-') && a.Length > 1)
                        throw new ArgumentException($"unknown option '{a}'. Usage: {Usage}");
                    return Done(PythonTargetKind.Script, a, i);
            }
        }
        throw new ArgumentException("nothing to run: give a script, -m module or -c code. Usage: " + Usage);

        RunOptions Done(PythonTargetKind kind, string value, int lastIndex)
        {
            if (kind == PythonTargetKind.Script && !File.Exists(value))
                throw new ArgumentException($"script '{value}' does not exist (working directory {Environment.CurrentDirectory}).");
            var rest = args.Skip(lastIndex + 1).ToArray();
            return new RunOptions(ranks, new PythonTarget(kind, value, rest), python, flavor, mpiexecArgs, timeout);
        }
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count) throw new ArgumentException($"{option} needs a value. Usage: {Usage}");
        return args[++i];
    }
}
