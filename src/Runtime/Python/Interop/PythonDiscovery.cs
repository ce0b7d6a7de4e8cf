using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace PyMpiBridge.Python;

/// <summary>
/// Chooses the interpreter to embed and asks it (one short run of a sysconfig script) where its libpython,
/// prefixes and sys.path are, so that what we embed is exactly what <c>python</c> would run — virtual
/// environments included. Order: <see cref="PythonOptions.PythonExecutable"/>, then <c>PYMPI_PYTHON</c>
/// (both fatal when unusable: the user asked for that interpreter), then <c>/usr/bin/python3</c> and the first
/// <c>python3</c> on PATH, the first that can import numpy.
/// </summary>
public static class PythonDiscovery
{
    /// <summary>The distribution's interpreter, tried first among the defaults.</summary>
    public const string SystemPython = "/usr/bin/python3";

    /// <summary>The first default candidate; tests point it at a fake interpreter.</summary>
    internal static string SystemPythonPath { get; set; } = SystemPython;

    /// <summary>Finds the interpreter; throws <see cref="PythonNotFoundException"/> listing every candidate tried.</summary>
    public static PythonInterpreter Locate(PythonOptions? options = null)
    {
        options ??= new PythonOptions();
        var tried = new List<PythonCandidate>();

        if (!string.IsNullOrWhiteSpace(options.PythonExecutable))
            return Explicit(options.PythonExecutable, options.PythonExecutableSource, options, tried);

        string? fromEnvironment = Environment.GetEnvironmentVariable(PythonOptions.PythonEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return Explicit(fromEnvironment, $"environment variable {PythonOptions.PythonEnvironmentVariable}", options, tried);

        var defaults = new List<(string Path, string Source)> { (SystemPythonPath, "default") };
        string? onPath = FindOnPath("python3");
        if (onPath is not null) defaults.Add((onPath, "first python3 on PATH"));
        else tried.Add(new PythonCandidate("python3", "PATH", "no python3 found on PATH"));

        var seen = new HashSet<string>();
        foreach (var (path, source) in defaults)
        {
            string canonical = Canonical(path);
            if (!seen.Add(canonical))
            {
                tried.Add(new PythonCandidate(path, source, $"same interpreter as one already tried ({canonical})"));
                continue;
            }
            var (info, rejection) = Probe(path, source, options.ProbeTimeout);
            if (info is not null && info.NumpyVersion is null)
                rejection = $"cannot import numpy ({info.NumpyError}); install python3-numpy for it or choose another interpreter";
            if (rejection is not null) { tried.Add(new PythonCandidate(path, source, rejection)); continue; }
            tried.Add(new PythonCandidate(path, source, null));
            return info!.ToInterpreter(source, $"first default candidate that can import numpy {info.NumpyVersion}", tried);
        }
        throw new PythonNotFoundException(tried);
    }

    private static PythonInterpreter Explicit(string path, string source, PythonOptions options, List<PythonCandidate> tried)
    {
        var (info, rejection) = Probe(path, source, options.ProbeTimeout);
        if (rejection is not null)
        {
            tried.Add(new PythonCandidate(path, source, rejection));
            throw new PythonNotFoundException(tried,
                $"The Python interpreter requested by {source} ('{path}') cannot be used; not falling back to another one.");
        }
        tried.Add(new PythonCandidate(path, source, null));
        string numpy = info!.NumpyVersion is null ? $"; note: it cannot import numpy ({info.NumpyError})" : $"; numpy {info.NumpyVersion}";
        return info.ToInterpreter(source, $"requested by {source}{numpy}", tried);
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string Canonical(string path)
    {
        try { return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path); }
        catch (IOException) { return path; }
    }

    /// <summary>The script the candidate runs: prints one JSON object describing the installation.</summary>
    private const string ProbeScript = """
        import sys, sysconfig, json
        cv = sysconfig.get_config_var
        info = dict(version=sys.version.split()[0], executable=sys.executable,
            prefix=sys.prefix, exec_prefix=sys.exec_prefix,
            base_prefix=getattr(sys, 'base_prefix', sys.prefix), base_exec_prefix=getattr(sys, 'base_exec_prefix', sys.exec_prefix),
            path=[p for p in sys.path if p], ld_library=cv('LDLIBRARY'), inst_so_name=cv('INSTSONAME'),
            user_site=__import__('site').getusersitepackages(), lib_dir=cv('LIBDIR'), lib_pl=cv('LIBPL'), multi_arch=cv('MULTIARCH'), gil_disabled=bool(cv('Py_GIL_DISABLED')),
            numpy=None, numpy_error=None)
        try:
            import numpy
            info['numpy'] = numpy.__version__
        except Exception as e:
            info['numpy_error'] = f'{type(e).__name__}: {e}'
        print('PYMPI-PROBE ' + json.dumps(info))
        """;

    private static (ProbeResult? Info, string? Rejection) Probe(string path, string source, TimeSpan timeout)
    {
        if (Directory.Exists(path)) return (null, "is a directory, not a python executable");
        if (path.Contains('/') && !File.Exists(path)) return (null, "file does not exist");

        // An answer this interpreter gave before, while nothing it depends on has changed (see PythonProbeCache).
        if (PythonProbeCache.TryLoad(path) is { } remembered)
        {
            var (cachedInfo, cachedRejection) = Check(path, remembered);
            if (cachedRejection is null && cachedInfo!.NumpyVersion is not null) return (cachedInfo, null);
        }

        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(ProbeScript);
        string stdout, stderr;
        try
        {
            using var process = Process.Start(start)!;
            var outTask = process.StandardOutput.ReadToEndAsync();
            var errTask = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return (null, $"did not answer within {timeout.TotalSeconds:F0} s");
            }
            stdout = outTask.Result;
            stderr = errTask.Result;
            if (process.ExitCode != 0)
                return (null, $"exited with code {process.ExitCode} when asked for its configuration: {FirstLines(stderr)}");
        }
        catch (Win32Exception e)
        {
            return (null, $"cannot be executed ({e.Message})");
        }

        string? line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("PYMPI-PROBE ", StringComparison.Ordinal));
        if (line is null)
            return (null, $"did not answer like a Python interpreter (output: {FirstLines(stdout + stderr)})");
        string json = line["PYMPI-PROBE ".Length..];
        var (info, rejection) = Interpret(path, json);
        if (rejection is null && info!.NumpyVersion is not null)
            PythonProbeCache.Store(path, info, [info.LibraryPath!, .. info.Path, info.UserSite ?? ""]);
        return (info, rejection);
    }

    /// <summary>Reads a probe answer and checks the interpreter is one we can embed.</summary>
    private static (ProbeResult? Info, string? Rejection) Interpret(string path, string json)
    {
        ProbeResult info;
        try { info = JsonSerializer.Deserialize(json, ProbeJsonContext.Default.ProbeResult)!; }
        catch (JsonException e) { return (null, $"answered with unreadable configuration ({e.Message})"); }
        return info is null ? (null, "answered with an empty configuration") : Check(path, info);
    }

    /// <summary>Whether the interpreter <paramref name="info"/> describes is one we can embed; finds its libpython.</summary>
    private static (ProbeResult? Info, string? Rejection) Check(string path, ProbeResult info)
    {
        info.Executable = path;

        if (info.GilDisabled)
            return (null, $"is a free-threaded build (Python {info.Version}t), which this bridge does not support yet");
        if (!Version.TryParse(info.Version.Split('+', 'a', 'b', 'r')[0], out var version) || version < new Version(3, 9))
            return (null, $"is Python {info.Version}; 3.9 or newer is required");

        info.LibraryPath = FindLibrary(info, out string? libraryProblem);
        return info.LibraryPath is null ? (null, libraryProblem) : (info, null);
    }

    private static string? FindLibrary(ProbeResult info, out string? problem)
    {
        var names = new[] { info.InstSoName, info.LdLibrary }
            .Where(n => !string.IsNullOrEmpty(n) && n!.Contains(".so")).Distinct().ToList();
        var dirs = new[]
        {
            info.LibDir,
            info.LibDir is null || info.MultiArch is null ? null : Path.Combine(info.LibDir, info.MultiArch),
            Path.Combine(info.BasePrefix, "lib"),
            info.LibPl,
        }.Where(d => !string.IsNullOrEmpty(d)).Distinct().ToList();
        foreach (string dir in dirs!)
            foreach (string name in names!)
            {
                string file = Path.Combine(dir!, name!);
                if (File.Exists(file)) { problem = null; return file; }
            }
        problem = names.Count == 0
            ? $"has no shared libpython (LDLIBRARY={info.LdLibrary}: built without --enable-shared; " +
              "for pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install <version>)"
            : $"its shared library {string.Join(" or ", names)} is not in {string.Join(", ", dirs)} (Debian: apt-get install libpython3-dev)";
        return null;
    }

    private static string FirstLines(string text)
    {
        string trimmed = text.Trim().Replace('\n', ' ');
        return trimmed.Length == 0 ? "(no output)" : trimmed.Length > 200 ? trimmed[..200] + "…" : trimmed;
    }

    internal sealed class ProbeResult
    {
        public string Version { get; set; } = "";
        public string Executable { get; set; } = "";
        public string Prefix { get; set; } = "";
        public string ExecPrefix { get; set; } = "";
        public string BasePrefix { get; set; } = "";
        public string BaseExecPrefix { get; set; } = "";
        public List<string> Path { get; set; } = [];
        public string? LdLibrary { get; set; }
        public string? InstSoName { get; set; }
        public string? LibDir { get; set; }
        public string? LibPl { get; set; }
        public string? MultiArch { get; set; }
        public bool GilDisabled { get; set; }
        public string? Numpy { get; set; }
        public string? NumpyError { get; set; }
        public string? UserSite { get; set; }
        public string? LibraryPath { get; set; }
        public string? NumpyVersion => Numpy;

        public PythonInterpreter ToInterpreter(string source, string reason, List<PythonCandidate> tried) => new()
        {
            Executable = Executable, Source = source, Reason = reason, Version = Version, LibraryPath = LibraryPath!,
            Prefix = Prefix, ExecPrefix = ExecPrefix, BasePrefix = BasePrefix, BaseExecPrefix = BaseExecPrefix,
            SysPath = Path, NumpyVersion = Numpy, Candidates = tried,
        };
    }
}
