using System.Runtime.InteropServices;

namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// The glibc calls .NET has no API for, used by the parallel layer's local transport: descriptors passed over Unix
/// sockets (<c>sendmsg</c>/<c>recvmsg</c> with SCM_RIGHTS), anonymous memory files (<c>memfd_create</c>), waiting on many
/// sockets at once (<c>poll</c>), a wake-up descriptor (<c>eventfd</c>), huge pages for fresh buffers (<c>madvise</c>) and
/// memory files mapped into this process (<c>mmap</c>); and for a rank, a watch on its launcher (<c>pidfd_open</c>,
/// <c>prctl</c>, <c>_exit</c>). Structure layouts are LP64 Linux (x86-64, arm64).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc.so.6";

    public const int EINTR = 4, EAGAIN = 11;
    public const int SOL_SOCKET = 1, SCM_RIGHTS = 1;
    public const int MSG_CTRUNC = 0x8, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    public const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    public const uint MFD_CLOEXEC = 1;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>CMSG_ALIGN: control data is aligned to size_t.</summary>
    public static int CmsgAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);
    public static int CmsgSpace(int dataLength) => CmsgAlign(sizeof(CmsgHdr)) + CmsgAlign(dataLength);
    public static int CmsgLen(int dataLength) => CmsgAlign(sizeof(CmsgHdr)) + dataLength;

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport(Library, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    public const int MADV_HUGEPAGE = 14;

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint address, nuint length, int advice);

    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2;
    public static readonly nint MAP_FAILED = -1;

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>pidfd_open's number, the same on every Linux architecture (numbers from 424 on are shared).</summary>
    public const long SYS_pidfd_open = 434;
    public const int PR_SET_PDEATHSIG = 1;

    [LibraryImport(Library, EntryPoint = "getppid")]
    public static partial int GetParentProcessId();

    /// <summary>syscall(2) for calls glibc 2.36 may not wrap; every argument is passed as a long.</summary>
    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long argument1, long argument2);

    [LibraryImport(Library, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, ulong argument2, ulong argument3, ulong argument4, ulong argument5);

    [LibraryImport(Library, EntryPoint = "_exit")]
    public static partial void ExitNow(int status);
}
