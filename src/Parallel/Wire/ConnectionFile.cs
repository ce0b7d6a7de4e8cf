using System.Text.Json;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A cluster's client connection file (PROTOCOL.md, "Connection file"), found where <c>_files.py</c> writes it:
/// <c>$PYMPIBRIDGE_DIR</c> (default <c>~/.pympibridge</c>)<c>/profile_&lt;profile&gt;/security/ipcontroller[-&lt;cluster_id&gt;]-client.json</c>.
/// </summary>
public sealed record ConnectionFile
{
    /// <summary>The file this was read from.</summary>
    public required string Path { get; init; }
    /// <summary>The 32-byte cluster key (HMAC-SHA256 key of the handshake).</summary>
    internal byte[] Key { get; init; } = [];
    /// <summary><c>tcp://host:port</c> of the controller.</summary>
    public required string Controller { get; init; }
    public string ClusterId { get; init; } = "";
    public string Profile { get; init; } = "default";
    /// <summary>How many engines the cluster was started with.</summary>
    public int Engines { get; init; } = 1;
    /// <summary>The controller's task database: memory, sqlite or none.</summary>
    public string Db { get; init; } = "memory";
    /// <summary>The controller's process id.</summary>
    public int Pid { get; init; } = -1;

    /// <summary><c>$PYMPIBRIDGE_DIR</c>, or <c>~/.pympibridge</c>.</summary>
    public static string BaseDirectory
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable("PYMPIBRIDGE_DIR");
            if (string.IsNullOrEmpty(dir)) dir = "~/.pympibridge";
            if (dir == "~" || dir.StartsWith("~/", StringComparison.Ordinal))
                dir = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), dir.TrimStart('~', '/'));
            return dir;
        }
    }

    /// <summary>The profile's directory: <c>&lt;base&gt;/profile_&lt;profile&gt;</c>.</summary>
    public static string ProfileDirectory(string? profile) =>
        System.IO.Path.Combine(BaseDirectory, $"profile_{(string.IsNullOrEmpty(profile) ? "default" : profile)}");

    /// <summary>Where the client file of a cluster lives.</summary>
    public static string ClientFilePath(string? profile = null, string? clusterId = null) =>
        System.IO.Path.Combine(ProfileDirectory(profile), "security",
            string.IsNullOrEmpty(clusterId) ? "ipcontroller-client.json" : $"ipcontroller-{clusterId}-client.json");

    /// <summary>Reads the file, waiting up to <paramref name="timeout"/> for it to appear (a cluster still starting).</summary>
    public static async Task<ConnectionFile> ReadAsync(string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return Parse(path, await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                if (DateTime.UtcNow >= deadline)
                    throw new FileNotFoundException(
                        $"no cluster is running: the connection file {path} does not exist. Start one with " +
                        "Cluster.StartAsync(engines: 4) or './pympi cluster start -n 4', or pass profile:/clusterId:/urlFile: " +
                        "for another cluster.", path);
            }
            catch (JsonException)
            {
                if (DateTime.UtcNow >= deadline)
                    throw new InvalidDataException($"the connection file {path} is not valid JSON");
            }
            // the file appears once the controller is up; written atomically, so a retry sees all of it or nothing
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static ConnectionFile Parse(string path, byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        string Str(string name, string fallback) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;
        int Int(string name, int fallback) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
        string key = Str("key", "");
        string controller = Str("controller", "");
        if (key.Length == 0 || controller.Length == 0)
            throw new InvalidDataException($"the connection file {path} has no 'key' or 'controller'");
        return new ConnectionFile
        {
            Path = path, Key = Convert.FromHexString(key), Controller = controller, ClusterId = Str("cluster_id", ""),
            Profile = Str("profile", "default"), Engines = Int("n", 1), Db = Str("db", "memory"), Pid = Int("pid", -1),
        };
    }
}
