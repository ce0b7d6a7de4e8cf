using System.Net;
using System.Net.Sockets;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Frames between two sockets of this process: large parts as memory files on Unix sockets, in the stream on TCP.</summary>
[TestFixture]
public sealed class FrameSocketTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A connected pair: (sending end made by <see cref="FrameSocket.ConnectAsync"/>, accepted end).</summary>
    private static async Task<(FrameSocket Client, FrameSocket Server)> PairAsync(bool unix)
    {
        using var listener = unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        string name = $"pympi-frame-test-{Guid.NewGuid():N}";
        if (unix) listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        else listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        string url = unix ? $"ipc://@{name}" : $"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}";
        var accept = listener.AcceptAsync();
        var client = await FrameSocket.ConnectAsync(url, CancellationToken.None);
        return (client, FrameSocket.FromConnected(await accept, url));
    }

    private static ReceivedPart[] Receive(FrameSocket socket)
    {
        while (true)
        {
            if (socket.TryReadFrame() is { } frame) return frame;
            Assert.That(socket.Fill(), "the peer closed before a whole frame arrived");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task LargePartsCrossAUnixSocketAsMemoryFiles()
    {
        var (client, server) = await PairAsync(unix: true);
        using (client)
        using (server)
        {
            Assert.That(client.IsLocal && server.IsLocal);
            byte[] large = Pattern(3 << 20, 1), small = Pattern(100, 2);
            client.Send([new FramePart[] { small, large, "tail"u8.ToArray() }]);
            var frame = Receive(server);
            Assert.That(frame, Has.Length.EqualTo(3));
            Assert.That(frame[0].IsDescriptor, Is.False);
            Assert.That(frame[1].IsDescriptor, Is.True, "a part of 1 MiB or more passes as a memory file");
            Assert.That(frame[1].Bytes, Is.EqualTo(large));
            Assert.That(frame[0].Bytes, Is.EqualTo(small));
            Assert.That(frame[2].Bytes, Is.EqualTo("tail"u8.ToArray()));
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task BurstWithMoreDescriptorsThanOneWriteCarriesArrivesWhole()
    {
        var (client, server) = await PairAsync(unix: true);
        using (client)
        using (server)
        {
            const int frames = 100; // more memory files than one write may carry (64)
            var parts = Enumerable.Range(0, frames).Select(i => Pattern(1 << 20, i)).ToArray();
            var sending = Task.Run(() => client.Send(parts.Select(p => (IReadOnlyList<FramePart>)new FramePart[] { BitConverter.GetBytes(p.Length), p }).ToList()));
            for (int i = 0; i < frames; i++)
            {
                var frame = Receive(server);
                Assert.That(frame[1].IsDescriptor);
                Assert.That(frame[1].Bytes, Is.EqualTo(parts[i]), $"frame {i}");
            }
            await sending;
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task LargePartsCrossTcpInTheStream()
    {
        var (client, server) = await PairAsync(unix: false);
        using (client)
        using (server)
        {
            Assert.That(client.IsLocal, Is.False);
            byte[] large = Pattern(3 << 20, 3);
            var sending = Task.Run(() => client.Send([new FramePart[] { "head"u8.ToArray(), large }]));
            var frame = Receive(server);
            await sending;
            Assert.That(frame[1].IsDescriptor, Is.False);
            Assert.That(frame[1].Bytes, Is.EqualTo(large));
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task OneSharedMemoryFileServesEveryPeer()
    {
        var (a, aServer) = await PairAsync(unix: true);
        var (b, bServer) = await PairAsync(unix: false);
        byte[] large = Pattern(2 << 20, 4);
        using (var shared = new SharedMemoryFile(large))
        using (a)
        using (aServer)
        using (b)
        using (bServer)
        {
            var part = new FramePart(shared);
            a.Send([new[] { part }]);
            var overTcp = Task.Run(() => b.Send([new[] { part }])); // TCP sends the source bytes
            Assert.That(Receive(aServer)[0].Bytes, Is.EqualTo(large));
            Assert.That(Receive(bServer)[0].Bytes, Is.EqualTo(large));
            await overTcp;
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task ClosedPeerEndsTheStream()
    {
        var (client, server) = await PairAsync(unix: true);
        using (server)
        {
            client.Send([new FramePart[] { "x"u8.ToArray() }]);
            client.Dispose();
            Assert.That(Receive(server)[0].Bytes, Is.EqualTo("x"u8.ToArray()));
            Assert.That(server.Fill(), Is.False, "the next read sees the end");
        }
    }
}
