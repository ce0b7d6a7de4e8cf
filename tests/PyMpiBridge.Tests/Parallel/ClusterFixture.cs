using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>
/// Points <c>PYMPIBRIDGE_DIR</c> at a fresh directory for the parallel tests, so their clusters' files never meet a
/// user's; restored afterwards.
/// </summary>
internal sealed class PrivateClusterDirectory : IDisposable
{
    private readonly string? _saved = Environment.GetEnvironmentVariable("PYMPIBRIDGE_DIR");

    public PrivateClusterDirectory()
    {
        Path = Directory.CreateTempSubdirectory("pympi-parallel-tests-").FullName;
        Environment.SetEnvironmentVariable("PYMPIBRIDGE_DIR", Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("PYMPIBRIDGE_DIR", _saved);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The processes below a process (from /proc), to check that a stopped cluster leaves none behind.</summary>
internal static class ProcessTree
{
    public static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(System.IO.Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1]);
            }
            catch (IOException) { }
        }
        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.Count > 0)
        {
            int p = frontier.Dequeue();
            foreach (var (child, parent) in parents)
                if (parent == p) { found.Add(child); frontier.Enqueue(child); }
        }
        return found;
    }

    public static bool Alive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }
}

/// <summary>
/// A fixture whose tests share one real 2-engine cluster (in a private <c>PYMPIBRIDGE_DIR</c>) and a client of it;
/// <see cref="PrepareAsync"/> runs once before the tests (definitions the tests call on the engines).
/// </summary>
public abstract class TwoEngineClusterFixture(string clusterId)
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    internal PrivateClusterDirectory Dir { get; private set; } = null!;
    protected PyMpiBridge.Parallel.Cluster Cluster { get; private set; } = null!;
    protected PyMpiBridge.Parallel.Client Client { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartCluster()
    {
        Dir = new PrivateClusterDirectory();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Cluster = await PyMpiBridge.Parallel.Cluster.StartAsync(engines: 2, clusterId: clusterId, cancellationToken: cts.Token);
        Client = await Cluster.ConnectAsync(cancellationToken: cts.Token);
        await PrepareAsync().WaitAsync(cts.Token);
    }

    protected virtual Task PrepareAsync() => Task.CompletedTask;

    [OneTimeTearDown]
    public async Task StopCluster()
    {
        if (Client is not null) await Client.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        Dir?.Dispose();
    }
}
