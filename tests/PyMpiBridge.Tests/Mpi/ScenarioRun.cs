using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// Runs a ScenarioHost scenario under mpiexec (or as a singleton without it) once per (flavor, ranks,
/// scenario, environment) and shares the result between the tests that check its lines. Every run has a
/// 60 s timeout, so a hang fails the tests instead of stalling the suite.
/// </summary>
public sealed partial class ScenarioRun
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly ConcurrentDictionary<string, Lazy<Task<ScenarioRun>>> s_runs = new();

    private ScenarioRun(MpiJobResult job, int ranks)
    {
        Job = job;
        Ranks = ranks;
        foreach (string line in job.StdoutLines)
        {
            // Not anchored: the .NET console may prefix a terminal escape to a rank's first line.
            var m = ResultLine().Match(line);
            if (m.Success) Lines[(int.Parse(m.Groups[1].Value), m.Groups[2].Value)] = (m.Groups[3].Value == "ok", m.Groups[4].Value);
        }
    }

    public MpiJobResult Job { get; }
    public int Ranks { get; }
    /// <summary>(rank, check) → (ok, detail).</summary>
    public Dictionary<(int Rank, string Check), (bool Ok, string Detail)> Lines { get; } = new();

    public static string HostDll => BuiltHost("ScenarioHost");

    /// <summary>The built test host of project <paramref name="project"/> (tests/&lt;project&gt;, assembly PyMpiBridge.&lt;project&gt;).</summary>
    public static string BuiltHost(string project)
    {
        string dll = Path.Combine(RepoRoot(), "artifacts", "bin", project, "release", $"PyMpiBridge.{project}.dll");
        if (!File.Exists(dll)) Assert.Fail($"{project} is not built at {dll}; run 'dotnet build PyMpiBridge.sln -c Release'.");
        return dll;
    }

    /// <summary>
    /// Runs (or reuses) <c>mpiexec -n ranks dotnet HOST.dll scenario [arguments]</c>; the host is ScenarioHost unless
    /// <paramref name="hostDll"/> names another one that prints the same result lines.
    /// </summary>
    public static Task<ScenarioRun> GetAsync(MpiFlavor flavor, int ranks, string scenario, IReadOnlyDictionary<string, string>? environment = null,
        string? hostDll = null, params string[] arguments)
    {
        hostDll ??= HostDll;
        string key = $"{Path.GetFileName(hostDll)}/{flavor}/{ranks}/{scenario} {string.Join(" ", arguments)}/{string.Join(";", (environment ?? new Dictionary<string, string>()).Select(kv => kv.Key + "=" + kv.Value))}";
        return s_runs.GetOrAdd(key, _ => new Lazy<Task<ScenarioRun>>(async () =>
        {
            var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["TERM"] = "dumb" };
            var psi = MpiLauncher.CreateStartInfo(ranks, "dotnet", [hostDll, scenario, .. arguments], flavor, environment: env);
            return new ScenarioRun(await InTime.Job(MpiLauncher.RunAsync(psi, Timeout)), ranks);
        })).Value;
    }

    /// <summary>
    /// <c>dotnet dll args</c> started directly, not under mpiexec, with output captured: our launch environment, minus
    /// anything a surrounding mpiexec might have set (so MPI sees no launcher), and a dumb terminal.
    /// </summary>
    public static ProcessStartInfo OutsideLauncher(string dll, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        psi.ArgumentList.Add(dll);
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        MpiLauncher.ApplyEnvironment(psi.Environment, MpiFlavor.OpenMpi);
        foreach (string k in psi.Environment.Keys.Where(k => k.StartsWith("OMPI_COMM_WORLD") || k.StartsWith("PMI_") || k.StartsWith("PMIX_")).ToList())
            psi.Environment.Remove(k);
        psi.Environment["TERM"] = "dumb";
        return psi;
    }

    /// <summary>The built pympi tool.</summary>
    public static string PympiDll => Path.Combine(RepoRoot(), "artifacts", "bin", "Pympi", "release", "pympi.dll");

    /// <summary>Runs the scenario host directly, without mpiexec: MPI makes it a 1-rank world (singleton).</summary>
    public static async Task<ScenarioRun> SingletonAsync(string scenario, IReadOnlyDictionary<string, string?> environment)
    {
        var psi = OutsideLauncher(HostDll, [scenario]);
        foreach (var (k, v) in environment)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return new ScenarioRun(await InTime.Job(MpiLauncher.RunAsync(psi, Timeout)), 1);
    }

    /// <summary>Fails with the job's output unless it exited 0 in time.</summary>
    public void AssertSucceeded()
    {
        Assert.That(Job.TimedOut, Is.False, $"job timed out after {Timeout.TotalSeconds} s\n{Describe()}");
        Assert.That(Job.ExitCode, Is.EqualTo(0), $"job failed\n{Describe()}");
    }

    /// <summary>Asserts that every rank printed <paramref name="check"/> as ok; returns the details by rank.</summary>
    public string[] AssertOkOnEveryRank(string check)
    {
        var details = new string[Ranks];
        for (int rank = 0; rank < Ranks; rank++)
        {
            Assert.That(Lines.TryGetValue((rank, check), out var line), Is.True, $"rank {rank} printed no '{check}' line\n{Describe()}");
            Assert.That(line.Ok, Is.True, $"rank {rank}: {check} FAIL {line.Detail}");
            details[rank] = line.Detail;
        }
        return details;
    }

    /// <summary>The detail of one rank's ok line for <paramref name="check"/>.</summary>
    public string AssertOk(int rank, string check)
    {
        Assert.That(Lines.TryGetValue((rank, check), out var line), Is.True, $"rank {rank} printed no '{check}' line\n{Describe()}");
        Assert.That(line.Ok, Is.True, $"rank {rank}: {check} FAIL {line.Detail}");
        return line.Detail;
    }

    public string Describe() =>
        $"exit {Job.ExitCode}, timed out {Job.TimedOut}, {Job.Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Tail(Job.Stdout)}\n--- stderr ---\n{Tail(Job.Stderr)}";

    private static string Tail(string s) => s.Length <= 6000 ? s : "..." + s[^6000..];

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PyMpiBridge.sln"))) return dir.FullName;
        throw new InvalidOperationException($"PyMpiBridge.sln not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"rank (\d+): (.+?) (ok|FAIL)(?: (.*))?$")]
    private static partial Regex ResultLine();
}
