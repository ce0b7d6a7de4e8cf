using System.Runtime.Loader;
using Microsoft.Extensions.Logging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Sharing;

/// <summary>What the session sets up inside Python so that both languages share one MPI.</summary>
internal static class PythonSide
{
    /// <summary>
    /// Before mpi4py's first import: tell it MPI is managed by the host (<c>rc.initialize = rc.finalize = False</c>),
    /// leaving its error handling as the user chose. Exports the host functions <c>pympibridge</c> builds on, and
    /// releases the GIL around blocking MPI calls made from C#.
    /// </summary>
    public static void Configure(RankSession session)
    {
        var log = session.LoggerFactory.CreateLogger("PyMpiBridge.Python");
        using (Py.Gil())
        {
            using var alreadyImported = Py.Eval("__import__('sys').modules.get('mpi4py.MPI') is not None");
            if (alreadyImported.IsTrue())
                log.LogWarning("mpi4py.MPI was imported before the rank session started; it was not configured by the host");
            else
            {
                try
                {
                    using var mpi4py = Py.Import("mpi4py");
                    using var rc = mpi4py.GetAttr("rc");
                    rc.SetAttr("initialize", false);
                    rc.SetAttr("finalize", false);
                }
                catch (PythonException e) when (e.PythonTypeName is "ModuleNotFoundError")
                {
                    log.LogInformation("mpi4py is not installed: Python code in this rank cannot use MPI " +
                                       "(install it: apt-get install python3-mpi4py)");
                }
            }
        }

        // Exported C# functions take and return communicators: an mpi4py Comm arrives as a C# view of the same handle.
        PyConverters.RegisterBorrowed<Comm>(CommSharing.FromMpi4py, CommSharing.ToMpi4py);
        BridgeModule.Register("_world_f", new Func<int>(() => session.World.ToFortran()),
            "Fortran handle of the host's MPI_COMM_WORLD (see pympibridge.world).");
        BridgeModule.Register("_rank", new Func<int>(() => session.Rank), "This rank in the host's world.");
        BridgeModule.Register("_load_assembly", new Func<string, string[]>(LoadAssembly),
            "Loads a .NET assembly and exports its [PythonExport] static methods; returns their names.");
        Methods.EngineMethods.Register();
        GilReleasingBlockingHook.Install();
        BridgeExtensions.LoadFrom(AppContext.BaseDirectory, m => log.LogWarning("{Problem}", m));
    }

    /// <summary>Loads an assembly by path and exports the [PythonExport] methods of all its types.</summary>
    internal static string[] LoadAssembly(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"no .NET assembly at '{full}'. Build it first (dotnet build) and pass the path of its .dll.", full);
        BridgeExtensions.ResolveDependenciesOf(full);
        var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
        BridgeExtensions.LoadFrom(Path.GetDirectoryName(full)!);
        var names = assembly.GetTypes().SelectMany(BridgeModule.RegisterAllNamed).ToList();
        if (names.Count == 0)
            throw new ArgumentException($"'{full}' exports nothing: mark public static methods with [PythonExport].");
        return names.ToArray();
    }

    /// <summary>Flushes Python's stdout/stderr before an abort, without waiting long for a GIL another thread holds.</summary>
    public static void FlushStreams()
    {
        if (!PythonEngine.IsInitialized) return;
        var flush = new Thread(() =>
        {
            try
            {
                using (Py.Gil()) Py.Exec("import sys\nfor s in (sys.stdout, sys.stderr):\n    s is not None and s.flush()");
            }
            catch (Exception) { /* best effort on the way down */ }
        }) { IsBackground = true };
        flush.Start();
        flush.Join(TimeSpan.FromSeconds(1));
    }

    /// <summary>Before Python shuts down: blocking MPI calls stop touching the GIL.</summary>
    public static void BeforeShutdown() => GilReleasingBlockingHook.Uninstall();
}
