namespace PyMpiBridge.Parallel.Wire;

/// <summary>Addresses as the cluster writes them: <c>tcp://host:port</c> (and <c>ipc://@name</c>, not used here).</summary>
internal static class WireAddress
{
    public static (string Host, int Port) ParseTcp(string url)
    {
        if (!url.StartsWith("tcp://", StringComparison.Ordinal))
            throw new NotSupportedException($"unsupported address {url}: this client connects over tcp://host:port only");
        string rest = url["tcp://".Length..];
        int colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out int port))
            throw new FormatException($"malformed address {url}: expected tcp://host:port");
        return (rest[..colon].Trim('[', ']'), port);
    }
}
