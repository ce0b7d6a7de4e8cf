using System.Text.Json.Serialization;

namespace PyMpiBridge.Python;

/// <summary>
/// Remembers what an interpreter said about itself (the discovery probe's answer), so that a rank does not start a
/// second Python — and import numpy in it — on every launch: that probe was about a third of the bridge's start-up
/// cost per rank (measured: ~70 ms CPU of ~300 ms), paid by every rank of every job.
/// </summary>
/// <remarks>
/// One small text file per interpreter path under <c>$XDG_CACHE_HOME/pympibridge</c> (else
/// <c>~/.cache/pympibridge</c>). An entry is used only while its fingerprint still matches: size and modification
/// time of the executable (and its symlink target), of libpython, of <c>pyvenv.cfg</c>, of every <c>sys.path</c>
/// directory (installing or removing a package changes its directory) and of the user site directory, plus the
/// environment variables that change <c>sys.path</c>. Anything unexpected — unreadable file, other format, a changed
/// fingerprint — means "probe again"; the cache can never make discovery fail. Only answers that discovery accepted
/// and that can import numpy are stored, so a rejected interpreter is re-examined every time (it may have been fixed).
/// <c>PYMPI_PYTHON_CACHE=0</c> turns the cache off.
/// </remarks>
internal static class PythonProbeCache
{
    /// <summary>Set to <c>0</c>, <c>off</c> or <c>false</c> to probe the interpreter on every start.</summary>
    public const string DisableVariable = "PYMPI_PYTHON_CACHE";

    private const string Header = "pympibridge python probe v1";

    /// <summary>Environment variables that change what the interpreter reports (sys.path, prefixes).</summary>
    private static readonly string[] RelevantVariables =
        ["PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR", "VIRTUAL_ENV"];

    /// <summary>Where entries go; tests point it at a temporary folder. Null: the default location.</summary>
    internal static string? DirectoryOverride { get; set; }

    /// <summary>The cache folder, or null when caching is off or there is no home directory.</summary>
    internal static string? Directory
    {
        get
        {
            if (Environment.GetEnvironmentVariable(DisableVariable) is { } off && off.Trim().ToLowerInvariant() is "0" or "off" or "false" or "no")
                return null;
            if (DirectoryOverride is not null) return DirectoryOverride;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "pympibridge");
            string? home = Environment.GetEnvironmentVariable("HOME");
            return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "pympibridge");
        }
    }

    /// <summary>What <paramref name="executable"/> reported about itself before, if nothing it depends on changed since; else null.</summary>
    public static PythonDiscovery.ProbeResult? TryLoad(string executable)
    {
        string? file = EntryPath(executable);
        if (file is null || !File.Exists(file)) return null;
        try
        {
            var fields = new Dictionary<string, List<string>>();
            string[] lines = File.ReadAllLines(file);
            if (lines.Length == 0 || lines[0] != Header) return null;
            foreach (string line in lines.AsSpan(1))
            {
                int tab = line.IndexOf('\t');
                if (tab < 0) return null; // not written by Store: ignore the whole entry
                string key = line[..tab];
                if (!fields.TryGetValue(key, out var values)) fields[key] = values = [];
                values.Add(line[(tab + 1)..]);
            }
            string? One(string key) => fields.TryGetValue(key, out var v) && v.Count == 1 && v[0].Length > 0 ? v[0] : null;
            List<string> All(string key) => fields.TryGetValue(key, out var v) ? v : [];

            if (One("executable") != Path.GetFullPath(executable)) return null;
            if (!All("fingerprint").SequenceEqual(Fingerprint(executable, All("watch")))) return null;
            return new PythonDiscovery.ProbeResult
            {
                Version = One("version") ?? "", Prefix = One("prefix") ?? "", ExecPrefix = One("exec_prefix") ?? "",
                BasePrefix = One("base_prefix") ?? "", BaseExecPrefix = One("base_exec_prefix") ?? "", Path = All("path"),
                LdLibrary = One("ld_library"), InstSoName = One("inst_so_name"), LibDir = One("lib_dir"), LibPl = One("lib_pl"),
                MultiArch = One("multi_arch"), UserSite = One("user_site"), Numpy = One("numpy"),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Remembers what <paramref name="executable"/> reported, watching <paramref name="watched"/> (the library, the
    /// sys.path directories, ...). Best effort: a read-only home only costs the next start a probe.
    /// </summary>
    public static void Store(string executable, PythonDiscovery.ProbeResult info, IEnumerable<string> watched)
    {
        string? file = EntryPath(executable);
        if (file is null) return;
        var paths = watched.Where(p => !string.IsNullOrEmpty(p)).Distinct().ToList();
        var lines = new List<string> { Header };
        void Add(string key, string? value) { if (value is not null) lines.Add($"{key}\t{value}"); }
        Add("executable", Path.GetFullPath(executable));
        foreach (string path in paths) Add("watch", path);
        foreach (string line in Fingerprint(executable, paths)) Add("fingerprint", line);
        Add("version", info.Version); Add("prefix", info.Prefix); Add("exec_prefix", info.ExecPrefix);
        Add("base_prefix", info.BasePrefix); Add("base_exec_prefix", info.BaseExecPrefix);
        foreach (string path in info.Path) Add("path", path);
        Add("ld_library", info.LdLibrary); Add("inst_so_name", info.InstSoName); Add("lib_dir", info.LibDir);
        Add("lib_pl", info.LibPl); Add("multi_arch", info.MultiArch); Add("user_site", info.UserSite); Add("numpy", info.Numpy);
        // One value per line: a value that holds a line break (a strange path) cannot be stored; probe next time.
        if (lines.Skip(1).Any(l => l.Count(c => c == '\t') != 1 || l.Contains('\n') || l.Contains('\r'))) return;

        // Written under a unique name, then renamed: ranks starting together never read a half-written entry.
        string temp = $"{file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllLines(temp, lines);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception) { /* nothing more to do */ }
        }
    }

    /// <summary>
    /// The entry file for an interpreter path and the environment variables that change its answer: one per pair (a
    /// venv's python differs from the one it links to; jobs with different PYTHONPATHs running side by side must not
    /// overwrite each other's entry, or their ranks keep missing and probe all at once).
    /// </summary>
    internal static string? EntryPath(string executable)
    {
        string? dir = Directory;
        if (dir is null) return null;
        var key = new System.Text.StringBuilder(Path.GetFullPath(executable));
        foreach (string name in RelevantVariables) key.Append('\n').Append(Environment.GetEnvironmentVariable(name));
        return Path.Combine(dir, $"python-probe-{Fnv1a(key.ToString()):x16}.json");
    }

    /// <summary>
    /// FNV-1a, 64 bits: names the entry file. Not a cryptographic hash on purpose — SHA-256 would load OpenSSL, which
    /// costs more start-up time than the cache saves; a collision only means the entry's own executable check fails.
    /// </summary>
    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) { hash ^= c; hash *= 1099511628211UL; }
        return hash;
    }

    /// <summary>Everything whose change could change the probe's answer, one line per item (stored and compared as is).</summary>
    internal static List<string> Fingerprint(string executable, IEnumerable<string> watched)
    {
        var lines = new List<string>();
        string full = Path.GetFullPath(executable);
        lines.Add(Describe(full));
        try
        {
            if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target) lines.Add(Describe(target.FullName));
        }
        catch (IOException) { lines.Add("unresolvable link"); }
        // A virtual environment is defined by the pyvenv.cfg beside or above its bin/ folder.
        string? bin = Path.GetDirectoryName(full);
        if (bin is not null)
        {
            lines.Add(Describe(Path.Combine(bin, "pyvenv.cfg")));
            if (Path.GetDirectoryName(bin) is { } venv) lines.Add(Describe(Path.Combine(venv, "pyvenv.cfg")));
        }
        foreach (string path in watched) lines.Add(Describe(path));
        foreach (string name in RelevantVariables) lines.Add($"${name}={Environment.GetEnvironmentVariable(name)}");
        return lines;
    }

    private static string Describe(string path)
    {
        FileSystemInfo info = System.IO.Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        return info.Exists
            ? $"{path}|{info.LastWriteTimeUtc.Ticks}|{(info is FileInfo f ? f.Length : -1)}"
            : $"{path}|missing";
    }
}

/// <summary>Source-generated reader of the probe's JSON answer (no reflection-based serializer to JIT).</summary>
[JsonSerializable(typeof(PythonDiscovery.ProbeResult))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class ProbeJsonContext : JsonSerializerContext;
