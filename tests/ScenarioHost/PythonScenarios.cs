using PyMpiBridge.Python;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Single-process Python scenarios: things a test cannot do inside its own (shared) interpreter.</summary>
public static class PythonScenarios
{
    /// <summary>Dispatches <c>python-*</c> scenarios; null when the name is not one of them.</summary>
    public static int? Run(string name, string[] args) => name switch
    {
        "python-exit" => Exit(args.FirstOrDefault() ?? "main"),
        "python-venv" => Venv(args[0]),
        "python-first-use-on-pool-thread" => FirstUseOnPoolThread(),
        _ => null,
    };

    /// <summary>Python output, a non-daemon Python thread and atexit handlers survive each way of ending the process.</summary>
    private static int Exit(string mode)
    {
        PythonEngine.Initialize();
        using (Py.Gil())
        {
            Py.Exec("""
                import atexit, threading, time
                atexit.register(lambda: print('atexit ran'))
                print('buffered output')
                def late():
                    time.sleep(0.3)
                    print('non-daemon thread finished')
                threading.Thread(target=late).start()
                """);
        }
        switch (mode)
        {
            case "main": PythonEngine.Shutdown(); break;
            case "thread": { var t = new Thread(PythonEngine.Shutdown); t.Start(); t.Join(); break; }
            case "exit": return 0; // ProcessExit does it (on the .NET finalizer thread)
        }
        try { using var gil = Py.Gil(); Console.WriteLine("ERROR: Python usable after shutdown"); return 1; }
        catch (InvalidOperationException e) { Console.WriteLine("after shutdown: " + e.Message); }
        return 0;
    }

    /// <summary>Embeds a virtual environment's interpreter and reports what its sys module sees.</summary>
    private static int Venv(string python)
    {
        var interpreter = PythonEngine.Initialize(new PythonOptions { PythonExecutable = python });
        Console.WriteLine($"chosen: {interpreter}");
        using var gil = Py.Gil();
        using var report = Py.Eval("__import__('json').dumps({'prefix': __import__('sys').prefix, " +
            "'executable': __import__('sys').executable, 'venv_module': __import__('venv_only').VALUE, " +
            "'pth_module': __import__('pth_only').VALUE, 'numpy': __import__('numpy').__version__})");
        Console.WriteLine("report: " + report.As<string>());
        return 0;
    }

    /// <summary>No explicit start: the first Py.Gil() is on a pool thread. Reports what Python thinks its main thread is.</summary>
    private static int FirstUseOnPoolThread()
    {
        string report = Task.Run(() =>
        {
            using var gil = Py.Gil();
            using var r = Py.Eval("(lambda t: f'pool thread is main: {t.current_thread() is t.main_thread()}')(__import__('threading'))");
            return r.As<string>();
        }).GetAwaiter().GetResult();
        Console.WriteLine(report);
        // A later pool thread and this (the process's main) thread both still run Python.
        string again = Task.Run(() => { using var gil = Py.Gil(); using var r = Py.Eval("6 * 7"); return r.As<int>().ToString(); }).GetAwaiter().GetResult();
        using (Py.Gil()) Console.WriteLine($"later calls: {again}");
        PythonEngine.Shutdown();
        return 0;
    }
}
