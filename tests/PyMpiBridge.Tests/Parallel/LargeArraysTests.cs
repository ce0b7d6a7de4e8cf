using System.Globalization;
using System.Runtime.InteropServices;
using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Large arrays born in 2 MiB pages (as numpy's), so the kernel reads them cheaply when they are pushed.</summary>
public sealed class LargeArraysTests
{
    [Test, CancelAfter(10_000)]
    public void LargeArraysAreZeroedAndTheirMemoryIsAdvisedHugePages()
    {
        double[] a = LargeArrays.Allocate<double>(4 << 20); // 32 MiB
        Assert.That(a, Has.Length.EqualTo(4 << 20));
        Assert.That(a.All(x => x == 0), "zeroed");
        var handle = GCHandle.Alloc(a, GCHandleType.Pinned);
        try
        {
            long address = handle.AddrOfPinnedObject() + (8L << 20); // a whole huge page inside
            Assert.That(VmFlagsAt(address), Does.Contain(" hg"), "madvise(MADV_HUGEPAGE) was applied to its memory");
        }
        finally
        {
            handle.Free();
        }
        Assert.That(LargeArrays.Allocate<int>(10), Is.EqualTo(new int[10]), "a small array is a plain array");
        Assert.Throws<ArgumentOutOfRangeException>(() => LargeArrays.Allocate<float>(-1));
    }

    /// <summary>The <c>VmFlags</c> line of the mapping of this process that holds <paramref name="address"/>.</summary>
    private static string VmFlagsAt(long address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && long.TryParse(line[..dash], NumberStyles.HexNumber, null, out long start)
                && long.TryParse(line[(dash + 1)..line.IndexOf(' ')], NumberStyles.HexNumber, null, out long end))
                inside = address >= start && address < end;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal)) return line + " ";
        }
        return "(no mapping found)";
    }
}
