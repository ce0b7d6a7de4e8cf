using PyMpiBridge.Pythonnet;
using PyMpiBridge.ScenarioHost;
using Python.Runtime;
using Ours = PyMpiBridge.Python;

namespace PyMpiBridge.PythonnetHost;

/// <summary>
/// <c>PyMpiBridge.PythonnetHost SCENARIO [EXIT_CODE]</c>: a pythonnet program that adopts PyMpiBridge.
/// <list type="bullet">
/// <item><c>pythonnet-first</c>: pythonnet starts Python and mpi4py starts MPI, as in an existing pythonnet program;
/// then the rank session adopts both.</item>
/// <item><c>session-first</c>: the rank session starts MPI and Python; pythonnet is attached to that interpreter.</item>
/// <item><c>crossings</c>: 100k object crossings each way; reference counts and memory stay flat.</item>
/// <item><c>raise-on-rank R</c>: a Python error escapes on rank R; the job must end, not hang.</item>
/// </list>
/// Every run ends through the session only (no pythonnet Shutdown or BeginAllowThreads by hand: the exit hang
/// must not happen through our API) and returns EXIT_CODE (default 0) when every check passed, else 1.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string scenario = args.FirstOrDefault() ?? "";
        if (scenario is not ("pythonnet-first" or "session-first" or "crossings" or "raise-on-rank"))
        {
            Console.Error.WriteLine("usage: PyMpiBridge.PythonnetHost pythonnet-first|session-first|crossings [EXIT_CODE] | raise-on-rank R");
            return 2;
        }
        if (scenario != "session-first")
        {
            // What a pythonnet program does today; the library path comes from our discovery (the interpreter with numpy).
            global::Python.Runtime.Runtime.PythonDLL = Ours.PythonDiscovery.Locate().LibraryPath;
            PythonEngine.Initialize();
            using (Py.GIL()) Py.Import("mpi4py.MPI").Dispose(); // mpi4py initializes MPI here
        }

        int failures;
        using (var session = PythonnetInterop.Start(args))
        {
            var context = new ScenarioContext(session.Rank);
            switch (scenario)
            {
                case "crossings": CrossingScenarios.Run(context); break;
                case "raise-on-rank": RaiseOnRank(session, int.Parse(args[1])); break;
                default:
                    ExchangeScenarios.Run(context, session, startedBy: scenario == "session-first" ? "PyMpiBridge" : "pythonnet");
                    break;
            }
            failures = context.Failures;
        }
        ScenarioContext.WriteLine($"shut down in order ({failures} failed checks)");
        return failures != 0 ? 1 : scenario != "raise-on-rank" && args.Length > 1 ? int.Parse(args[1]) : 0;
    }

    /// <summary>Rank <paramref name="failing"/> raises in Python while the others wait in a collective.</summary>
    private static void RaiseOnRank(RankSession session, int failing)
    {
        if (session.Rank == failing)
            using (Py.GIL()) PythonEngine.Exec("raise RuntimeError('rank failed on purpose')");
        session.World.Barrier();
    }
}
