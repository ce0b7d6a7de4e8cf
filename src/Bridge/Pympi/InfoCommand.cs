using System.CommandLine;
using PyMpiBridge.Launching;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tool;

/// <summary>
/// <c>pympi info [--python PATH]</c>: what this machine gives PyMpiBridge — MPI library, version, ABI and thread
/// level; the Python interpreter, why it was chosen, and its libpython; numpy, mpi4py and cloudpickle; launchers.
/// Anything missing is reported with what to install. Exit code 1 when MPI or Python is unusable.
/// </summary>
public static class InfoCommand
{
    /// <summary>The definition of <c>pympi info</c>.</summary>
    public static Command Create()
    {
        var python = new Option<string?>("--python")
        {
            Description = "Python executable to check (default: PYMPI_PYTHON, then a python3 that imports mpi4py)",
            HelpName = "PATH",
        };
        var command = new Command("info", "MPI and Python found here, versions, and what to install") { python };
        command.SetAction(result => Run(result.GetValue(python)));
        return command;
    }

    private static int Run(string? python)
    {
        bool ok = true;
        Section("MPI");
        try
        {
            var level = MpiEnvironment.Init();
            Row("library", MpiEnvironment.LibraryPath);
            Row("implementation", $"{MpiEnvironment.Implementation} ({MpiEnvironment.LibraryVersion.Split('\n')[0].Trim()})");
            Row("ABI", MpiEnvironment.Abi.ToString());
            Row("launched by", MpiEnvironment.Launch is { Kind: not MpiLauncherKind.None } launch ? $"{launch.Launcher} ({launch.Evidence})" : "no launcher (a 1-rank world)");
            Row("MPI standard", MpiEnvironment.Version.ToString());
            Row("thread level", level.ToString());
            Row("processor", MpiEnvironment.ProcessorName);
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or EntryPointNotFoundException or MpiException or MpiLaunchException)
        {
            ok = false;
            Row("error", e.Message);
        }
        Row("mpiexec (Open MPI)", MpiLauncher.FindMpiexec(MpiFlavor.OpenMpi) ?? "missing: apt-get install openmpi-bin");
        Row("mpiexec (MPICH)", MpiLauncher.FindMpiexec(MpiFlavor.Mpich) ?? "not installed (optional: apt-get install mpich libmpich-dev)");

        Section("Python");
        try
        {
            var interpreter = PythonEngine.Initialize(new PythonOptions { PythonExecutable = python, PythonExecutableSource = "--python", ShutdownOnProcessExit = false });
            Row("executable", interpreter.Executable);
            Row("version", interpreter.Version);
            Row("chosen because", $"{interpreter.Source}: {interpreter.Reason}");
            Row("libpython", interpreter.LibraryPath);
            Row("prefix", interpreter.Prefix);
            using (Py.Gil())
            {
                Module("numpy", "apt-get install python3-numpy", required: true, ref ok);
                Py.Exec("try:\n    import mpi4py\n    mpi4py.rc.initialize = mpi4py.rc.finalize = False\nexcept ImportError:\n    pass");
                Module("mpi4py", "apt-get install python3-mpi4py", required: false, ref ok, Mpi4pyDetail);
                Module("cloudpickle", "apt-get install python3-cloudpickle", required: false, ref ok);
                Module("scipy", "apt-get install python3-scipy (optional: examples)", required: false, ref ok);
                Module("numba", "apt-get install python3-numba (optional: examples)", required: false, ref ok);
            }
        }
        catch (Exception e) when (e is PythonNotFoundException or DllNotFoundException or InvalidOperationException)
        {
            ok = false;
            Row("error", e.Message);
        }
        finally
        {
            if (PythonEngine.IsInitialized) PythonEngine.Shutdown();
            if (MpiEnvironment.IsInitialized && !MpiEnvironment.IsFinalized) MpiEnvironment.Finalize();
        }
        return ok ? 0 : 1;
    }

    private static string Mpi4pyDetail(PyObject mpi4py)
    {
        // mpi4py must be built on the MPI library we load, or the two languages would not share one MPI: with MPI
        // initialized here and mpi4py told not to initialize, it sees an initialized MPI only if it is the same library.
        using var mpi = Py.Import("mpi4py.MPI");
        using var version = mpi.CallMethod("Get_library_version");
        string theirs = version.As<string>().Split('\n')[0].Trim().TrimEnd('\0').Trim();
        if (!MpiEnvironment.IsInitialized) return $"built on {theirs}";
        using var initialized = mpi.CallMethod("Is_initialized");
        return initialized.IsTrue()
            ? "shares this MPI library with C#"
            : $"built on a different MPI ({theirs}): C# and Python would not share one MPI; use the MPI mpi4py was built on";
    }

    private static void Module(string name, string install, bool required, ref bool ok, Func<PyObject, string>? detail = null)
    {
        try
        {
            using var module = Py.Import(name);
            using var version = module.GetAttr("__version__");
            string extra = detail is null ? "" : "; " + detail(module);
            Row(name, version.As<string>() + extra);
        }
        catch (PythonException e)
        {
            if (required) ok = false;
            Row(name, e.PythonTypeName == "ModuleNotFoundError"
                ? $"{(required ? "MISSING" : "missing")}: {install}"
                : $"installed but cannot be imported here ({e.PythonTypeName}: {e.Message.Split('\n')[0]})");
        }
    }

    private static void Section(string title) => Console.WriteLine(title);

    private static void Row(string key, string value)
    {
        string[] lines = value.Split('\n');
        Console.WriteLine($"  {key,-20} {lines[0].TrimEnd()}");
        foreach (string line in lines.Skip(1)) Console.WriteLine($"  {"",-20} {line.TrimEnd()}");
    }
}
