using System.Runtime.InteropServices;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>libc calls for the output a rank hands to its launcher.</summary>
internal static partial class Pipes
{
    private const ulong FIONREAD = 0x541B; // Linux

    [LibraryImport("libc.so.6", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, ulong request, out int count);

    /// <summary>
    /// Bytes written to <paramref name="fd"/> that its reader has not taken yet (a pipe; Linux answers FIONREAD on
    /// either end), or 0 when that cannot be told (a terminal, a file).
    /// </summary>
    public static int Unread(int fd) => Ioctl(fd, FIONREAD, out int count) == 0 ? count : 0;
}
