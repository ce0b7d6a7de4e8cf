using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Hosting;

/// <summary>
/// Runs a Python program as <c>__main__</c> in this rank, as <c>python script.py</c> would, with the job-level
/// rules mpi4py users need and plain <c>mpiexec python</c> lacks: an uncaught exception prints its traceback
/// tagged with the rank and aborts every rank (no hang), and a non-zero <c>sys.exit</c> on one rank ends the job
/// with that code.
/// </summary>
public static class PythonProgramRunner
{
    /// <summary>Runs <paramref name="target"/>; returns the exit code (0 on success). May not return: see above.</summary>
    public static int Run(RankSession session, PythonTarget target)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(target);
        if (session.Python is null)
            throw new InvalidOperationException("this rank session was started without Python (StartPython = false).");

        int code;
        bool crashed;
        using (Py.Gil())
        {
            using var runner = Py.Import("pympibridge._runner");
            string kind = target.Kind switch
            {
                PythonTargetKind.Script => "script",
                PythonTargetKind.Module => "module",
                _ => "code",
            };
            string mpiLibrary = $"{MpiEnvironment.LibraryPath}, {MpiEnvironment.Abi}";
            using var result = runner.CallMethod("run", kind, target.Value, target.Argv.ToArray(), session.Rank, mpiLibrary);
            using var first = result[0];
            using var second = result[1];
            code = first.As<int>();
            crashed = second.As<bool>();
        }
        Console.Out.Flush();
        if (crashed)
            session.Abort(1, "uncaught Python exception (traceback above)");
        else if (code != 0 && session.Size > 1)
            session.Abort(code, $"the Python program exited with code {code}");
        return code;
    }
}
