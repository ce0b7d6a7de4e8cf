using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>
/// A connection to an engine carrying frames (PROTOCOL.md, "Frames") with synchronous calls, for the hot path: sends go
/// out from the caller's thread, and the client's <see cref="ReplyPump"/> reads every engine from one thread (as the
/// Python client's I/O thread does). Over a Unix socket (an engine on this host) a part of 1 MiB or more travels as a
/// memory file descriptor (length bit 63 set, SCM_RIGHTS): one copy into the file, none through the socket; a received
/// one is read straight into its destination. Over TCP large parts are sent from their own memory and received straight
/// into their own array.
/// </summary>
internal sealed class FrameSocket : IFrameChannel, IDisposable
{
    /// <summary>Parts at least this large cross a Unix socket as descriptors (as <c>_wire._FD_THRESHOLD</c>).</summary>
    public const int DescriptorThreshold = 1 << 20;
    private const ulong DescriptorFlag = 1UL << 63;
    private const int CoalesceBelow = 64 * 1024;
    private const int MaxParts = 1_000_000;
    private const int MaxDescriptorsPerSend = LocalTransport.MaxDescriptorsPerRead;

    private readonly Socket _socket;
    private readonly Lock _sendLock = new();
    private readonly Queue<SafeFileHandle> _descriptors = new();
    private readonly List<SafeFileHandle> _arrived = [];
    private byte[] _buffer = new byte[256 * 1024];
    private int _start, _end;
    private int _closed;

    private FrameSocket(Socket socket, string url, bool local)
    {
        _socket = socket;
        Url = url;
        IsLocal = local;
    }

    public string Url { get; }

    /// <summary>A Unix socket to an engine on this host: large parts pass as descriptors.</summary>
    public bool IsLocal { get; }

    /// <summary>The socket's descriptor, for <see cref="LocalTransport.Poll"/>.</summary>
    public int Descriptor => (int)_socket.Handle;

    /// <summary>Connects to <c>tcp://host:port</c> or <c>ipc://@name</c> (an abstract Unix socket on this host).</summary>
    public static async Task<FrameSocket> ConnectAsync(string url, CancellationToken cancellationToken)
    {
        bool local = url.StartsWith("ipc://@", StringComparison.Ordinal);
        Socket socket;
        if (local)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try { await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint("\0" + url["ipc://@".Length..]), cancellationToken).ConfigureAwait(false); }
            catch { socket.Dispose(); throw; }
        }
        else
        {
            var (host, port) = WireAddress.ParseTcp(url);
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try { await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false); }
            catch { socket.Dispose(); throw; }
        }
        return new FrameSocket(socket, url, local);
    }

    /// <summary>A frame socket over an accepted or connected <paramref name="socket"/> (a Unix socket passes descriptors).</summary>
    internal static FrameSocket FromConnected(Socket socket, string url) => new(socket, url, socket.AddressFamily == AddressFamily.Unix);

    // ---- sending -------------------------------------------------------------------------------------------------

    ValueTask IFrameChannel.SendAsync(IReadOnlyList<FramePart> parts, CancellationToken cancellationToken)
    {
        Send([parts]);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Sends <paramref name="frames"/> back to back: headers and small parts gathered into one write (a burst of tiny
    /// tasks is one system call), large parts from their own memory, or as descriptors on a Unix socket.
    /// </summary>
    public void Send(IReadOnlyList<IReadOnlyList<FramePart>> frames)
    {
        int small = 0;
        foreach (var parts in frames)
        {
            small += 4 + 8 * parts.Count;
            foreach (var p in parts)
                if (p.Length < CoalesceBelow) small += p.Length;
        }
        byte[] gather = ArrayPool<byte>.Shared.Rent(small);
        var temporary = new List<SafeFileHandle>();
        var pendingDescriptors = new List<int>();
        try
        {
            lock (_sendLock)
            {
                int pending = 0;
                var frameDescriptors = new List<int>();
                foreach (var parts in frames)
                {
                    // memory files first: the descriptors travel with the bytes of this frame's header
                    frameDescriptors.Clear();
                    var passed = new bool[parts.Count];
                    for (int i = 0; i < parts.Count; i++)
                    {
                        if (!IsLocal || (parts[i].Shared is null && parts[i].Length < DescriptorThreshold)) continue;
                        SafeFileHandle file = parts[i].Shared?.File ?? Keep(temporary, SharedMemoryFile.Fill(parts[i].Span));
                        frameDescriptors.Add((int)file.DangerousGetHandle());
                        passed[i] = true;
                    }
                    if (pendingDescriptors.Count + frameDescriptors.Count > MaxDescriptorsPerSend && pending > 0)
                        Flush(gather, ref pending, pendingDescriptors);
                    if (frameDescriptors.Count > MaxDescriptorsPerSend)
                        throw new ArgumentException($"a frame with {frameDescriptors.Count} large parts (at most {MaxDescriptorsPerSend} can pass at once)");
                    pendingDescriptors.AddRange(frameDescriptors);
                    BinaryPrimitives.WriteUInt32LittleEndian(gather.AsSpan(pending), (uint)parts.Count);
                    for (int i = 0; i < parts.Count; i++)
                        BinaryPrimitives.WriteUInt64LittleEndian(gather.AsSpan(pending + 4 + 8 * i),
                            (ulong)(uint)parts[i].Length | (passed[i] ? DescriptorFlag : 0UL));
                    pending += 4 + 8 * parts.Count;
                    for (int i = 0; i < parts.Count; i++)
                    {
                        var p = parts[i];
                        if (passed[i]) continue;
                        if (p.Length < CoalesceBelow)
                        {
                            p.Span.CopyTo(gather.AsSpan(pending));
                            pending += p.Length;
                            continue;
                        }
                        Flush(gather, ref pending, pendingDescriptors);
                        SendAll(p.Span);
                    }
                }
                Flush(gather, ref pending, pendingDescriptors);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gather);
            foreach (var file in temporary) file.Dispose(); // the receiver holds its own descriptor now
        }
    }

    private static SafeFileHandle Keep(List<SafeFileHandle> files, SafeFileHandle file)
    {
        files.Add(file);
        return file;
    }

    private void Flush(byte[] gather, ref int pending, List<int> descriptors)
    {
        int sent = 0;
        if (descriptors.Count > 0)
        {
            sent = LocalTransport.SendWithDescriptors(_socket.SafeHandle, gather.AsSpan(0, pending), descriptors.ToArray());
            descriptors.Clear();
        }
        SendAll(gather.AsSpan(sent, pending - sent));
        pending = 0;
    }

    private void SendAll(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[_socket.Send(data)..];
    }

    // ---- receiving -----------------------------------------------------------------------------------------------

    /// <summary>One read of what has arrived (blocking until something has); false when the peer closed the connection.</summary>
    public bool Fill()
    {
        if (_start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            else Array.Resize(ref _buffer, _buffer.Length * 2); // a frame of many small parts
        }
        int n = Receive(_buffer.AsSpan(_end));
        if (n == 0) return false;
        _end += n;
        return true;
    }

    private int Receive(Span<byte> target)
    {
        try
        {
            if (!IsLocal) return _socket.Receive(target, SocketFlags.None);
            int n = LocalTransport.Receive(_socket.SafeHandle, target, _arrived);
            foreach (var d in _arrived) _descriptors.Enqueue(d);
            _arrived.Clear();
            return n;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            return 0;
        }
    }

    /// <summary>
    /// The next whole frame from what has arrived, or null. A frame whose large parts are still arriving is completed
    /// by reading them straight into their arrays (its sender is in the middle of sending it). With
    /// <paramref name="limit"/> (before authentication) a frame larger than that, with descriptors or more than 16
    /// parts, is refused.
    /// </summary>
    public ReceivedPart[]? TryReadFrame(int? limit = null)
    {
        int available = _end - _start;
        if (available < 4) return null;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
        if (count > (limit is null ? MaxParts : 16)) throw new InvalidDataException($"{Url}: malformed frame ({count} parts)");
        int head = 4 + 8 * (int)count;
        if (available < head) return null;
        var lengths = new ulong[count];
        long streamed = 0;
        for (int i = 0; i < count; i++)
        {
            lengths[i] = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(_start + 4 + 8 * i));
            long length = (long)(lengths[i] & ~DescriptorFlag);
            if (length > Array.MaxLength) throw new InvalidDataException($"{Url}: a frame part of {length} bytes is larger than a .NET array");
            if ((lengths[i] & DescriptorFlag) != 0)
            {
                if (!IsLocal || limit is not null)
                    throw new InvalidDataException($"{Url}: a descriptor part {(IsLocal ? "before authentication" : "on a TCP connection")}");
                continue;
            }
            streamed += length;
        }
        if (limit is not null && head + streamed > limit) throw new InvalidDataException($"{Url}: a frame of {head + streamed} bytes before authentication");
        if (available >= head + streamed)
        {
            var parts = new ReceivedPart[count];
            int at = _start + head;
            for (int i = 0; i < count; i++)
            {
                if ((lengths[i] & DescriptorFlag) != 0)
                {
                    parts[i] = NextDescriptor((long)(lengths[i] & ~DescriptorFlag));
                    continue;
                }
                parts[i] = _buffer.AsSpan(at, (int)lengths[i]).ToArray();
                at += (int)lengths[i];
            }
            _start = at;
            return parts;
        }
        if (head + streamed - available < CoalesceBelow) return null; // a small frame still arriving: the next Fill brings it
        return CompleteLarge(head, lengths);
    }

    private ReceivedPart[] CompleteLarge(int head, ulong[] lengths)
    {
        var parts = new ReceivedPart[lengths.Length];
        int at = _start + head;
        for (int i = 0; i < lengths.Length; i++)
        {
            long length = (long)(lengths[i] & ~DescriptorFlag);
            if ((lengths[i] & DescriptorFlag) != 0)
            {
                parts[i] = NextDescriptor(length);
                continue;
            }
            var part = GC.AllocateUninitializedArray<byte>((int)length);
            LargePages.Advise(part);
            int have = Math.Min(_end - at, part.Length);
            _buffer.AsSpan(at, have).CopyTo(part);
            at += have;
            while (have < part.Length)
            {
                int n = Receive(part.AsSpan(have));
                if (n == 0) throw new ConnectionLostException($"{Url}: the connection closed in the middle of a frame");
                have += n;
            }
            parts[i] = part;
        }
        _start = Math.Min(at, _end);
        return parts;
    }

    private ReceivedPart NextDescriptor(long length)
    {
        if (!_descriptors.TryDequeue(out var file))
            throw new InvalidDataException($"{Url}: a buffer descriptor announced in a frame did not arrive");
        return ReceivedPart.FromDescriptor(file, length);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for one whole frame (the handshake); null when the peer closed first.</summary>
    public ReceivedPart[]? ReadFrame(int? limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DateTime? deadline = timeout == Timeout.InfiniteTimeSpan ? null : DateTime.UtcNow + timeout;
        while (true)
        {
            if (TryReadFrame(limit) is { } frame) return frame;
            while (!_socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Url}: no answer within {timeout.TotalSeconds:0.#} s");
            }
            if (!Fill()) return null;
        }
    }

    async ValueTask<byte[][]?> IFrameChannel.ReadFrameAsync(int? limit, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the blocking wait runs on a pool thread, not on the caller's
        var frame = ReadFrame(limit, Timeout.InfiniteTimeSpan, cancellationToken);
        return frame?.Select(p => p.Bytes).ToArray();
    }

    /// <summary>Closes the socket: a blocked read or send ends with an error, the pump stops polling it.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
        while (_descriptors.TryDequeue(out var d)) d.Dispose();
    }

    public void Dispose() => Close();
}
