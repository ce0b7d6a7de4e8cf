namespace PyMpiBridge.Parallel.Wire;

/// <summary>What the handshake needs of a connection: send a frame, read one (bounded before authentication).</summary>
internal interface IFrameChannel
{
    /// <summary>The address, for messages.</summary>
    string Url { get; }

    ValueTask SendAsync(IReadOnlyList<FramePart> parts, CancellationToken cancellationToken = default);

    /// <summary>One whole frame (null when the peer closed); with <paramref name="limit"/>, a larger frame is refused.</summary>
    ValueTask<byte[][]?> ReadFrameAsync(int? limit = null, CancellationToken cancellationToken = default);
}
