using System.Diagnostics;
using System.Text;

namespace PyMpiBridge.Launching;

/// <summary>Which MPI implementation's launcher to use.</summary>
public enum MpiFlavor
{
    /// <summary>Open MPI (Debian's default <c>mpiexec</c>, the one mpi4py is built on).</summary>
    OpenMpi,
    /// <summary>MPICH, launched with <c>mpiexec.mpich</c> (hydra).</summary>
    Mpich,
}

/// <summary>What one launched job did.</summary>
public sealed record MpiJobResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    /// <summary>Stdout split into lines, without empty trailing lines.</summary>
    public IReadOnlyList<string> StdoutLines =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

/// <summary>
/// Starts <c>mpiexec</c> jobs the way this project needs them on small machines and in containers:
/// Open MPI's run-as-root variables only for our own launches, <c>--oversubscribe</c> when ranks
/// exceed cores, no CMA single-copy (fails in containers). Used by <c>pympi run</c>, the
/// benchmarks and the integration tests.
/// </summary>
public static class MpiLauncher
{
    /// <summary>Path of the launcher for <paramref name="flavor"/>, or null when it is not installed.</summary>
    public static string? FindMpiexec(MpiFlavor flavor)
    {
        string[] candidates = flavor == MpiFlavor.OpenMpi
            ? ["mpiexec.openmpi", "mpirun.openmpi", "mpiexec"]
            : ["mpiexec.mpich", "mpirun.mpich", "mpiexec.hydra"];
        foreach (string name in candidates)
        {
            string? path = FindOnPath(name);
            if (path is not null) return path;
        }
        return null;
    }

    /// <summary>
    /// Builds the start info for <c>mpiexec -n <paramref name="ranks"/> program args...</c>, on the hosts of
    /// <paramref name="hosts"/> when given (then the hostfile's slots decide, never an automatic oversubscription).
    /// </summary>
    /// <param name="oversubscribe">Whether Open MPI may start more ranks than it has slots; null: when
    /// <paramref name="ranks"/> exceeds this machine's cores and no hostfile is given (a Slurm allocation's slots are its
    /// tasks, so pympi run passes false there).</param>
    public static ProcessStartInfo CreateStartInfo(
        int ranks, string program, IEnumerable<string> arguments,
        MpiFlavor flavor = MpiFlavor.OpenMpi, IEnumerable<string>? extraMpiexecArgs = null,
        IReadOnlyDictionary<string, string>? environment = null, bool? oversubscribe = null, MpiHosts? hosts = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        string mpiexec = FindMpiexec(flavor) ?? throw new FileNotFoundException(
            flavor == MpiFlavor.OpenMpi
                ? "Open MPI's mpiexec was not found on PATH. Install it: apt-get install openmpi-bin libopenmpi-dev"
                : "MPICH's mpiexec.mpich was not found on PATH. Install it: apt-get install mpich libmpich-dev");
        hosts ??= MpiHosts.Default;

        var psi = Redirected(mpiexec);
        ApplyEnvironment(psi.Environment, flavor);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;

        psi.ArgumentList.Add("-n");
        psi.ArgumentList.Add(ranks.ToString());
        if (flavor == MpiFlavor.OpenMpi && (oversubscribe ?? (hosts.Hostfile is null && ranks > Environment.ProcessorCount)))
            psi.ArgumentList.Add("--oversubscribe");
        foreach (string a in hosts.MpiexecArguments(flavor)) psi.ArgumentList.Add(a);
        if (flavor == MpiFlavor.OpenMpi)
            foreach (string a in RemoteRankEnvironment.OpenMpiArguments(RemoteRankEnvironment.Names(psi.Environment, environment?.Keys ?? [])))
                psi.ArgumentList.Add(a);
        foreach (string a in extraMpiexecArgs ?? []) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(program);
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Start info for <paramref name="program"/> with every stream redirected and no shell.</summary>
    internal static ProcessStartInfo Redirected(string program) => new(program)
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        RedirectStandardInput = true,
        UseShellExecute = false,
    };

    /// <summary>Environment our launches need: run-as-root permission, container-safe shared memory.</summary>
    public static void ApplyEnvironment(IDictionary<string, string?> env, MpiFlavor flavor)
    {
        if (flavor == MpiFlavor.OpenMpi)
        {
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
            env.TryAdd("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        }
        // The child .NET processes must not inherit a test host's profiler or diagnostics settings.
        env.Remove("DOTNET_STARTUP_HOOKS");
    }

    /// <summary>
    /// Runs a job to completion, capturing output. A job still running after <paramref name="timeout"/>
    /// is killed with its whole process tree and reported with <see cref="MpiJobResult.TimedOut"/>.
    /// </summary>
    public static async Task<MpiJobResult> RunAsync(ProcessStartInfo startInfo, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        bool timedOut = false;
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
        }
        process.WaitForExit(); // flush the asynchronous readers
        lock (stdout) lock (stderr)
            return new MpiJobResult(timedOut ? -1 : process.ExitCode, stdout.ToString(), stderr.ToString(), timedOut, clock.Elapsed);
    }

    /// <summary>
    /// Runs a job attached to this terminal (its stdin/stdout/stderr are ours) and returns its exit code.
    /// A job still running after <paramref name="timeout"/> is killed with its process tree: exit code 124, as
    /// with coreutils' <c>timeout</c>.
    /// </summary>
    public static async Task<int> RunAttachedAsync(ProcessStartInfo startInfo, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        startInfo.RedirectStandardOutput = false;
        startInfo.RedirectStandardError = false;
        startInfo.RedirectStandardInput = false;
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {startInfo.FileName}");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } t) cts.CancelAfter(t);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
            if (cancellationToken.IsCancellationRequested) throw;
            Console.Error.WriteLine($"the MPI job did not finish within {timeout!.Value.TotalSeconds:F0} s and was stopped.");
            return 124;
        }
    }

    /// <summary>Runs <c>mpiexec -n ranks program args</c> under a timeout.</summary>
    public static Task<MpiJobResult> RunAsync(int ranks, string program, IEnumerable<string> arguments, TimeSpan timeout,
        MpiFlavor flavor = MpiFlavor.OpenMpi, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
        => RunAsync(CreateStartInfo(ranks, program, arguments, flavor, environment: environment), timeout, cancellationToken);

    internal static string? FindOnPath(string name)
    {
        if (name.Contains('/')) return File.Exists(name) ? Path.GetFullPath(name) : null;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(RealDirectory(dir), name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>
    /// The directory with symbolic links resolved: Open MPI derives its install prefix from the launcher's path, and
    /// on merged-/usr systems <c>/bin/mpiexec</c> (through the <c>/bin → usr/bin</c> link) gives the prefix "/", which
    /// mpiexec rejects ("prefix only contained slashes"); <c>/usr/bin/mpiexec</c> gives "/usr".
    /// </summary>
    internal static string RealDirectory(string dir)
    {
        try
        {
            var info = new DirectoryInfo(dir);
            return info.Exists ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName : dir;
        }
        catch (IOException) { return dir; }
        catch (UnauthorizedAccessException) { return dir; }
    }
}
