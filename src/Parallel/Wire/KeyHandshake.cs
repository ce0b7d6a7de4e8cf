using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// The client side of the handshake every connection starts with (PROTOCOL.md, "Handshake"): the server sends
/// <c>[b"pympi-parallel-1", nonce]</c>, we answer <c>[HMAC(key, "client:" + nonce), our_nonce, identity_json]</c>, the
/// server proves it has the key with <c>[b"ok", HMAC(key, "server:" + our_nonce), info_json]</c> or refuses.
/// </summary>
internal static class KeyHandshake
{
    private static readonly byte[] Hello = "pympi-parallel-1"u8.ToArray();

    /// <summary>Authenticates <paramref name="connection"/>; returns the server's info object.</summary>
    public static async Task<JsonElement> ClientAsync(IFrameChannel connection, byte[] key, string session,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            byte[][]? hello = await connection.ReadFrameAsync(FrameConnection.HandshakeLimit, cts.Token).ConfigureAwait(false);
            if (hello is null)
                throw new AuthenticationException($"{connection.Url} closed the connection during the handshake");
            if (hello.Length != 2 || !hello[0].AsSpan().SequenceEqual(Hello))
                throw new AuthenticationException($"{connection.Url} is not a pympibridge cluster endpoint");
            byte[] mine = RandomNumberGenerator.GetBytes(32);
            await connection.SendAsync([Mac(key, "client:", hello[1]), mine, Identity(session)],
                cts.Token).ConfigureAwait(false);
            byte[][]? answer = await connection.ReadFrameAsync(FrameConnection.HandshakeLimit, cts.Token).ConfigureAwait(false);
            if (answer is null)
                throw new AuthenticationException(
                    $"{connection.Url} closed the connection during the handshake (wrong cluster key?)");
            if (!answer[0].AsSpan().SequenceEqual("ok"u8))
            {
                string reason = answer.Length > 1 ? Encoding.UTF8.GetString(answer[1]) : "refused";
                throw new AuthenticationException($"the cluster at {connection.Url} refused this connection: {reason}");
            }
            if (answer.Length < 3 || !CryptographicOperations.FixedTimeEquals(answer[1], Mac(key, "server:", mine)))
                throw new AuthenticationException(
                    $"{connection.Url} does not have the cluster key (wrong connection file?)");
            return answer[2].Length == 0 ? default : JsonDocument.Parse(answer[2]).RootElement.Clone();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AuthenticationException(
                $"{connection.Url} did not answer the handshake within {timeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>An engine connection (TCP or a local Unix socket) to <paramref name="url"/>, authenticated.</summary>
    public static Task<FrameSocket> ConnectSocketAsync(string url, byte[] key, string session, TimeSpan timeout,
        CancellationToken cancellationToken) =>
        AuthenticatedAsync(c => FrameSocket.ConnectAsync(url, c), s => { s.Dispose(); return default; }, key, session, timeout, cancellationToken);

    /// <summary>A controller connection to <paramref name="url"/>, authenticated with <paramref name="key"/> for client <paramref name="session"/>.</summary>
    public static Task<FrameConnection> ConnectAsync(string url, byte[] key, string session, TimeSpan timeout,
        CancellationToken cancellationToken) =>
        AuthenticatedAsync(c => FrameConnection.ConnectAsync(url, c), c => c.DisposeAsync(), key, session, timeout, cancellationToken);

    private static async Task<T> AuthenticatedAsync<T>(Func<CancellationToken, Task<T>> open, Func<T, ValueTask> dispose, byte[] key,
        string session, TimeSpan timeout, CancellationToken cancellationToken) where T : IFrameChannel
    {
        T connection;
        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            cts.CancelAfter(timeout);
            connection = await open(cts.Token).ConfigureAwait(false);
        }
        try
        {
            await ClientAsync(connection, key, session, timeout, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await dispose(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary><c>{"role": "client", "session": ...}</c> (written without reflection: trimmed and AOT hosts work too).</summary>
    private static byte[] Identity(string session) =>
        Encoding.UTF8.GetBytes(new System.Text.Json.Nodes.JsonObject { ["role"] = "client", ["session"] = session }.ToJsonString());

    private static byte[] Mac(byte[] key, string label, byte[] nonce)
    {
        byte[] message = [.. Encoding.ASCII.GetBytes(label), .. nonce];
        return HMACSHA256.HashData(key, message);
    }
}
