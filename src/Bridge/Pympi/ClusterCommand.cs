using System.Diagnostics;
using PyMpiBridge.Python;
using PyMpiBridge.Sharing;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi cluster start|stop|list</c>: the <c>ipcluster</c> of this product. The controller and the command's
/// logic live in the Python package (<c>pympibridge.parallel._cli</c>), run with the interpreter the ranks embed;
/// this command finds that interpreter and the package and tells the controller to start engines with this very
/// tool (<c>pympi run -n N -m pympibridge.parallel._engine</c>), so one installation serves both.
/// </summary>
public static class ClusterCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var (python, rest) = ExtractPythonOption(args);
        var interpreter = PythonDiscovery.Locate(new PythonOptions { PythonExecutable = python, PythonExecutableSource = "--python" });
        var psi = new ProcessStartInfo(interpreter.Executable) { UseShellExecute = false };
        psi.ArgumentList.Add("-m");
        psi.ArgumentList.Add("pympibridge.parallel._cli");
        foreach (string a in rest) psi.ArgumentList.Add(a);
        string? existing = Environment.GetEnvironmentVariable("PYTHONPATH");
        psi.Environment["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? PythonPackage.Directory : $"{PythonPackage.Directory}:{existing}";
        psi.Environment["PYMPI_COMMAND"] = $"{ShellQuote(Environment.ProcessPath ?? "dotnet")} {ShellQuote(typeof(ClusterCommand).Assembly.Location)}";
        if (python is not null) psi.Environment["PYMPI_PYTHON"] = Path.GetFullPath(python);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {interpreter.Executable}");
        // Ctrl-C reaches the child too (same process group); it stops the cluster and exits, and so do we.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>Takes <c>--python PATH</c> (or <c>--python=PATH</c>) out of the arguments; the rest go to the Python side.</summary>
    internal static (string? Python, List<string> Arguments) ExtractPythonOption(IReadOnlyList<string> args)
    {
        string? python = null;
        var rest = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--python")
            {
                if (i + 1 >= args.Count) throw new UsageException("--python needs a path to a python executable");
                python = args[++i];
            }
            else if (args[i].StartsWith("--python=", StringComparison.Ordinal)) python = args[i]["--python=".Length..];
            else rest.Add(args[i]);
        }
        return (python, rest);
    }

    /// <summary>Quotes one word for POSIX shell splitting (Python's shlex reads <c>PYMPI_COMMAND</c> this way).</summary>
    internal static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
