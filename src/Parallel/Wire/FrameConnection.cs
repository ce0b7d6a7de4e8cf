using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// The controller connection: frames (<c>u32 nparts</c>, <c>nparts</c> little-endian <c>u64</c> lengths, then the
/// parts back to back; PROTOCOL.md, "Frames") over TCP with async calls. Descriptor parts (bit 63 of a length, Unix
/// sockets only) never occur on it; one arriving anyway is a protocol error. Engines use <see cref="FrameSocket"/>.
/// Reads go through a <see cref="PipeReader"/> (many small frames per system call); a part is copied once, into its own
/// array. Sends are serialized by a lock; small parts are coalesced with the header, large ones sent from the caller's
/// memory.
/// </summary>
internal sealed class FrameConnection : IFrameChannel, IAsyncDisposable
{
    internal const int HandshakeLimit = 64 * 1024;
    private const ulong DescriptorFlag = 1UL << 63;
    private const int MaxParts = 1_000_000;

    private readonly Socket _socket;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _closed;

    private FrameConnection(Socket socket, string url)
    {
        _socket = socket;
        Url = url;
        _reader = PipeReader.Create(new NetworkStream(socket, ownsSocket: false),
            new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024));
    }

    /// <summary>The address this connection was opened to (for messages).</summary>
    public string Url { get; }

    /// <summary>Connects to <c>tcp://host:port</c>.</summary>
    public static async Task<FrameConnection> ConnectAsync(string url, CancellationToken cancellationToken)
    {
        var (host, port) = WireAddress.ParseTcp(url);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new FrameConnection(socket, url);
    }

    /// <summary>
    /// Reads one whole frame; null when the peer closed the connection between frames. With <paramref name="limit"/>
    /// (before authentication) a frame larger than that, or with more than 16 parts, is refused.
    /// </summary>
    public async ValueTask<byte[][]?> ReadFrameAsync(int? limit = null, CancellationToken cancellationToken = default)
    {
        long[] lengths;
        while (true)
        {
            ReadResult read = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (TryReadHeader(buffer, limit, out lengths, out long headerSize))
            {
                _reader.AdvanceTo(buffer.GetPosition(headerSize));
                break;
            }
            if (read.IsCompleted || read.IsCanceled)
            {
                bool clean = buffer.IsEmpty;
                _reader.AdvanceTo(buffer.End);
                if (clean) return null;
                throw new ConnectionLostException($"{Url}: the connection closed in the middle of a frame");
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
        var parts = new byte[lengths.Length][];
        for (int i = 0; i < lengths.Length; i++)
        {
            var part = new byte[lengths[i]];
            long have = 0;
            while (have < part.LongLength)
            {
                ReadResult read = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = read.Buffer;
                long take = Math.Min(part.LongLength - have, buffer.Length);
                buffer.Slice(0, take).CopyTo(part.AsSpan((int)have));
                _reader.AdvanceTo(buffer.GetPosition(take));
                have += take;
                if (take == 0 && (read.IsCompleted || read.IsCanceled))
                    throw new ConnectionLostException($"{Url}: the connection closed in the middle of a frame");
            }
            parts[i] = part;
        }
        return parts;
    }

    private bool TryReadHeader(ReadOnlySequence<byte> buffer, int? limit, out long[] lengths, out long headerSize)
    {
        lengths = [];
        headerSize = 0;
        if (buffer.Length < 4) return false;
        var reader = new SequenceReader<byte>(buffer);
        reader.TryReadLittleEndian(out int countSigned);
        uint count = unchecked((uint)countSigned);
        if (count > (limit is null ? MaxParts : 16))
            throw new InvalidDataException($"{Url}: malformed frame ({count} parts)");
        headerSize = 4 + 8L * count;
        if (buffer.Length < headerSize) return false;
        lengths = new long[count];
        long total = headerSize;
        for (int i = 0; i < count; i++)
        {
            reader.TryReadLittleEndian(out long raw);
            ulong length = unchecked((ulong)raw);
            if ((length & DescriptorFlag) != 0)
                throw new InvalidDataException(
                    $"{Url}: the peer sent a descriptor part, which only Unix sockets carry (this client speaks TCP)");
            if (length > int.MaxValue - 64)
                throw new InvalidDataException($"{Url}: a frame part of {length} bytes is larger than a .NET array");
            lengths[i] = (long)length;
            total += (long)length;
        }
        if (limit is not null && total > limit)
            throw new InvalidDataException($"{Url}: a frame of {total} bytes before authentication");
        return true;
    }

    /// <summary>Sends one frame made of <paramref name="parts"/> (controller messages: small, written in one piece).</summary>
    public async ValueTask SendAsync(IReadOnlyList<FramePart> parts, CancellationToken cancellationToken = default)
    {
        int size = 4 + 8 * parts.Count + parts.Sum(p => p.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)parts.Count);
            int at = 4 + 8 * parts.Count;
            for (int i = 0; i < parts.Count; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(4 + 8 * i), (ulong)parts[i].Length);
                parts[i].Span.CopyTo(buffer.AsSpan(at));
                at += parts[i].Length;
            }
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await SendAllAsync(buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Closes the socket; a pending read ends (with null or an exception).</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Close();
        await _reader.CompleteAsync().ConfigureAwait(false);
    }
}
