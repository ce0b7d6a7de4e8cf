using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// What a transport between processes of one host needs beyond <see cref="System.Net.Sockets.Socket"/>: file
/// descriptors passed along with bytes on a Unix socket (SCM_RIGHTS), anonymous memory files to pass large buffers in,
/// waiting on many sockets at once, and a descriptor that wakes such a wait. Errors are <see cref="Win32Exception"/>s
/// carrying errno and its text.
/// </summary>
internal static unsafe class LocalTransport
{
    /// <summary>At most this many descriptors arrive with one read (more is a protocol error: the kernel drops them).</summary>
    public const int MaxDescriptorsPerRead = 64;

    /// <summary>
    /// Sends <paramref name="data"/> with <paramref name="descriptors"/> attached to its first byte; returns how many
    /// bytes went (at least one: the descriptors travel with it); the caller sends the rest as plain bytes.
    /// </summary>
    public static int SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors)
    {
        if (data.IsEmpty) throw new ArgumentException("descriptors travel with at least one byte", nameof(data));
        int space = Libc.CmsgSpace(descriptors.Length * sizeof(int));
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        var header = (Libc.CmsgHdr*)control;
        header->Length = (nuint)Libc.CmsgLen(descriptors.Length * sizeof(int));
        header->Level = Libc.SOL_SOCKET;
        header->Type = Libc.SCM_RIGHTS;
        descriptors.CopyTo(new Span<int>(control + Libc.CmsgAlign(sizeof(Libc.CmsgHdr)), descriptors.Length));
        fixed (byte* bytes = data)
        {
            var iov = new Libc.IoVec { Base = bytes, Length = (nuint)data.Length };
            var message = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
            return Transfer(socket, &message, send: true, $"sendmsg with {descriptors.Length} descriptor(s)");
        }
    }

    /// <summary>
    /// Reads what is available (blocking until something is) into <paramref name="buffer"/>, adding descriptors that
    /// came with it to <paramref name="descriptors"/> (they are the caller's to close); 0 when the peer closed.
    /// </summary>
    public static int Receive(SafeHandle socket, Span<byte> buffer, List<SafeFileHandle> descriptors)
    {
        int space = Libc.CmsgSpace(MaxDescriptorsPerRead * sizeof(int));
        byte* control = stackalloc byte[space];
        fixed (byte* bytes = buffer)
        {
            var iov = new Libc.IoVec { Base = bytes, Length = (nuint)buffer.Length };
            var message = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
            int received = Transfer(socket, &message, send: false, "recvmsg");
            for (var cmsg = message.ControlLength >= (nuint)sizeof(Libc.CmsgHdr) ? (Libc.CmsgHdr*)control : null; cmsg is not null;)
            {
                if (cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS)
                {
                    int count = ((int)cmsg->Length - Libc.CmsgAlign(sizeof(Libc.CmsgHdr))) / sizeof(int);
                    int* fds = (int*)((byte*)cmsg + Libc.CmsgAlign(sizeof(Libc.CmsgHdr)));
                    for (int i = 0; i < count; i++) descriptors.Add(new SafeFileHandle(fds[i], ownsHandle: true));
                }
                byte* next = (byte*)cmsg + Libc.CmsgAlign((int)cmsg->Length);
                cmsg = next + sizeof(Libc.CmsgHdr) <= control + (int)message.ControlLength && cmsg->Length > 0 ? (Libc.CmsgHdr*)next : null;
            }
            if ((message.Flags & Libc.MSG_CTRUNC) != 0)
                throw new InvalidDataException($"buffer descriptors were lost: more than {MaxDescriptorsPerRead} arrived with one read");
            return received;
        }
    }

    /// <summary>One sendmsg/recvmsg on <paramref name="socket"/>, retried when interrupted and waited for when it would block.</summary>
    private static int Transfer(SafeHandle socket, Libc.MsgHdr* message, bool send, string what)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int fd = (int)socket.DangerousGetHandle();
            while (true)
            {
                nint n = send ? Libc.SendMsg(fd, message, Libc.MSG_NOSIGNAL) : Libc.RecvMsg(fd, message, Libc.MSG_CMSG_CLOEXEC);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR) continue;
                if (errno == Libc.EAGAIN)
                {
                    WaitFor(fd, send ? Libc.POLLOUT : Libc.POLLIN);
                    continue;
                }
                throw new Win32Exception(errno, $"{what} failed: {new Win32Exception(errno).Message}");
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>An anonymous memory file (memfd) of this process, closed on exec; fill it with <see cref="RandomAccess.Write(SafeFileHandle, ReadOnlySpan{byte}, long)"/>.</summary>
    public static SafeFileHandle CreateMemoryFile(string name)
    {
        int fd = Libc.MemfdCreate(name, Libc.MFD_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new Win32Exception(errno, $"memfd_create failed: {new Win32Exception(errno).Message}");
        }
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>One descriptor to wait on, and what happened to it.</summary>
    public struct PollEntry
    {
        public int Descriptor;
        public bool Readable;
        public bool Closed;
    }

    /// <summary>
    /// Waits until one of <paramref name="entries"/> is readable (or closed/failed), at most <paramref name="timeoutMilliseconds"/>
    /// (-1: forever, 0: just look); returns how many are ready.
    /// </summary>
    public static int Poll(Span<PollEntry> entries, int timeoutMilliseconds)
    {
        var fds = entries.Length <= 64 ? stackalloc Libc.PollFd[entries.Length] : new Libc.PollFd[entries.Length];
        for (int i = 0; i < entries.Length; i++) fds[i] = new Libc.PollFd { Fd = entries[i].Descriptor, Events = Libc.POLLIN };
        int ready;
        fixed (Libc.PollFd* p = fds)
        {
            while ((ready = Libc.Poll(p, (nuint)fds.Length, timeoutMilliseconds)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR) throw new Win32Exception(errno, $"poll failed: {new Win32Exception(errno).Message}");
            }
        }
        for (int i = 0; i < entries.Length; i++)
        {
            short r = fds[i].Revents;
            entries[i].Readable = (r & Libc.POLLIN) != 0;
            entries[i].Closed = (r & (Libc.POLLHUP | Libc.POLLERR | Libc.POLLNVAL)) != 0;
        }
        return ready;
    }

    private static void WaitFor(int fd, short events)
    {
        var p = new Libc.PollFd { Fd = fd, Events = events };
        while (Libc.Poll(&p, 1, -1) < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR) { }
    }

    /// <summary>An eventfd: <see cref="Signal"/> from any thread makes <see cref="Descriptor"/> readable until <see cref="Drain"/>.</summary>
    public sealed class WakeEvent : IDisposable
    {
        private readonly SafeFileHandle _handle;

        public WakeEvent()
        {
            int fd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new Win32Exception(errno, $"eventfd failed: {new Win32Exception(errno).Message}");
            }
            _handle = new SafeFileHandle(fd, ownsHandle: true);
        }

        public int Descriptor => (int)_handle.DangerousGetHandle();

        public void Signal()
        {
            if (_handle.IsClosed) return;
            ulong one = 1;
            Libc.Write(Descriptor, &one, sizeof(ulong));
        }

        public void Drain()
        {
            ulong count;
            Libc.Read(Descriptor, &count, sizeof(ulong));
        }

        public void Dispose() => _handle.Dispose();
    }
}
