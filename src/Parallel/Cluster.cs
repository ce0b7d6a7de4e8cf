using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PyMpiBridge.Parallel.Wire;
using PyMpiBridge.Python;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A controller and its MPI engines owned by this program, as ipyparallel's <c>Cluster</c>: <see cref="StartAsync"/>
/// runs the same controller as <c>./pympi cluster start</c> and Python's <c>ipp.Cluster</c>
/// (<c>python -m pympibridge.parallel._controller</c>, which starts the engines with <c>pympi run -n N</c>);
/// <c>await using</c> stops controller and engines, leaving no process behind.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly string _logPath;
    private int _disposed;

    private Cluster(Process process, ConnectionFile file, int engines, string logPath, ILogger logger)
    {
        _process = process;
        ConnectionFile = file;
        Engines = engines;
        _logPath = logPath;
        _logger = logger;
    }

    /// <summary>The connection file the controller wrote (clients elsewhere connect with its profile and cluster id).</summary>
    public ConnectionFile ConnectionFile { get; }
    public string ClusterId => ConnectionFile.ClusterId;
    public string Profile => ConnectionFile.Profile;
    public int Engines { get; }
    /// <summary>The controller's process id.</summary>
    public int ControllerPid => _process.Id;

    /// <summary>
    /// Starts a controller and <paramref name="engines"/> MPI engines; returns once the controller is listening
    /// (engines register in the background: <see cref="ConnectAsync"/> waits for them).
    /// </summary>
    /// <param name="engines">Number of engines (MPI ranks).</param>
    /// <param name="profile">Profile whose directory holds the connection file (default <c>default</c>).</param>
    /// <param name="clusterId">Cluster id (default: time and random letters, as ipyparallel).</param>
    /// <param name="db">Task database: memory, sqlite or none.</param>
    /// <param name="python">The interpreter to run the controller with (default: as the bridge discovers it).</param>
    /// <param name="mpiArgs">Extra arguments for <c>pympi run</c> (e.g. <c>--oversubscribe</c>).</param>
    /// <param name="timeout">How long the controller may take to come up (30 s).</param>
    public static async Task<Cluster> StartAsync(int engines, string? profile = null, string? clusterId = null, string db = "memory",
        string? python = null, IEnumerable<string>? mpiArgs = null, TimeSpan? timeout = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(engines, 1);
        logger ??= NullLogger.Instance;
        profile ??= "default";
        clusterId ??= $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2))}";
        string file = ConnectionFile.ClientFilePath(profile, clusterId);
        if (File.Exists(file))
            throw new InvalidOperationException($"a cluster with id '{clusterId}' (profile '{profile}') already has a connection file " +
                                                $"({file}): stop it, or pick another clusterId");
        var interpreter = PythonDiscovery.Locate(new PythonOptions { PythonExecutable = python, PythonExecutableSource = "python:", Logger = logger });
        var psi = new ProcessStartInfo(interpreter.Executable)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = Environment.CurrentDirectory,
        };
        foreach (string a in new[] { "-m", "pympibridge.parallel._controller", "-n", engines.ToString(), "--profile", profile,
                     "--cluster-id", clusterId, "--ip", "127.0.0.1", "--db", db, "--workdir", Environment.CurrentDirectory })
            psi.ArgumentList.Add(a);
        foreach (string a in mpiArgs ?? []) psi.ArgumentList.Add("--mpi-arg=" + a);
        ParallelLayerEnvironment.Apply(psi.Environment, PympiTool.Command());
        if (python is not null) psi.Environment["PYMPI_PYTHON"] = Path.GetFullPath(python);

        string logDir = Path.Combine(ConnectionFile.ProfileDirectory(profile), "log");
        Directory.CreateDirectory(logDir);
        string logPath = Path.Combine(logDir, $"controller-{clusterId}.log");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {interpreter.Executable}");
        logger.LogInformation("controller started (pid {Pid}) with {Python}; its output in {Log}", process.Id, interpreter.Executable, logPath);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var logLock = new object();
        void Append(string? line) { if (line is not null) lock (logLock) log.WriteLine(line); }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Exited += (_, _) => { lock (logLock) log.Dispose(); };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();

        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            // the controller writes the file (atomically) once it listens; its pid tells ours from a stale one
            if (File.Exists(file))
            {
                try
                {
                    var cf = ConnectionFile.Parse(file, await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false));
                    if (cf.Pid == process.Id) return new Cluster(process, cf, engines, logPath, logger);
                }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { }
            }
            if (process.HasExited)
                throw new InvalidOperationException($"the controller exited with code {process.ExitCode} before it was ready:\n{Tail(logPath)}");
            if (DateTime.UtcNow > deadline || cancellationToken.IsCancellationRequested)
            {
                KillTree(process);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"the controller did not start within {limit.TotalSeconds:0} s:\n{Tail(logPath)}");
            }
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>A client of this cluster, once every engine is connected (<see cref="Client.WaitForEnginesAsync"/>).</summary>
    public async Task<Client> ConnectAsync(TimeSpan? engineTimeout = null, CancellationToken cancellationToken = default)
    {
        var client = await Client.ConnectAsync(urlFile: ConnectionFile.Path, timeout: TimeSpan.FromSeconds(30), logger: _logger,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await client.WaitForEnginesAsync(Engines, engineTimeout ?? TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await client.DisposeAsync().ConfigureAwait(false); // no engines to hand a client of (timeout, job ended, cancelled)
            if (e is TimeoutException)
                throw new TimeoutException($"{e.Message}; engines' log: {Path.Combine(Path.GetDirectoryName(_logPath)!, $"engines-{ClusterId}.log")}", e);
            throw;
        }
        return client;
    }

    /// <summary>Stops engines and controller (the controller's clean shutdown; killed after 20 s) and waits for them.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!_process.HasExited)
        {
            try
            {
                // the controller's own clean shutdown: engines told to stop (killed after 5 s), files removed, then it exits
                string session = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
                await using var controller = await ControllerConnection.ConnectAsync(ConnectionFile.Controller, ConnectionFile.Key,
                    session, TimeSpan.FromSeconds(5), _logger, CancellationToken.None).ConfigureAwait(false);
                controller.Start();
                await controller.AskAsync("shutdown", new System.Text.Json.Nodes.JsonObject { ["hub"] = true },
                    TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or OperationCanceledException
                                          or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
            {
                _logger.LogWarning("asking the controller to stop failed ({Error}); killing it", e.Message);
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { _logger.LogWarning("the controller did not stop within 20 s; killing it and its engines"); }
        }
        KillTree(_process);
        _process.Dispose();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private static void KillTree(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    private static string Tail(string path, int lines = 30)
    {
        try { return string.Join('\n', File.ReadLines(path).TakeLast(lines)); }
        catch (IOException) { return "(no log)"; }
    }
}
