namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// Huge pages for large fresh buffers. The first write to a fresh 64 MiB .NET array faults in 16,384 pages of 4 KiB,
/// each a trip into the kernel (measured here: 0.1–1 s under load, more than the copy itself); with 2 MiB pages it is
/// 32. numpy asks for huge pages on its large arrays the same way (<c>madvise(MADV_HUGEPAGE)</c>), which is what the
/// kernel's default "madvise" mode of transparent huge pages waits for. Advice only: nothing changes if it is ignored.
/// </summary>
internal static unsafe class LargePages
{
    private const long HugePageSize = 2 << 20;

    /// <summary>Buffers smaller than this are not worth the call (fewer than two whole huge pages inside).</summary>
    public const long Threshold = 4 * HugePageSize;

    /// <summary>Advises huge pages for the whole 2 MiB pages inside <paramref name="buffer"/> (call before writing it).</summary>
    public static void Advise(Span<byte> buffer)
    {
        if (buffer.Length < Threshold || !OperatingSystem.IsLinux()) return;
        fixed (byte* p = buffer)
        {
            long start = ((long)p + HugePageSize - 1) & ~(HugePageSize - 1);
            long end = ((long)p + buffer.Length) & ~(HugePageSize - 1);
            if (end > start) Libc.Madvise((nint)start, (nuint)(end - start), Libc.MADV_HUGEPAGE);
        }
    }
}
