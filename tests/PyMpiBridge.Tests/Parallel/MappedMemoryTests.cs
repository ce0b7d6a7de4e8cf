using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Memory files mapped into this process (how local engines' arrays arrive without a copy).</summary>
public sealed class MappedMemoryTests
{
    private static SafeFileHandle MemoryFileOf(double[] values)
    {
        var file = LocalTransport.CreateMemoryFile("mapped-memory-test");
        RandomAccess.Write(file, MemoryMarshal.AsBytes(values.AsSpan()), 0);
        return file;
    }

    [Test, CancelAfter(10_000)]
    public void MappingReadsTheFileAndWritesDoNotReachIt()
    {
        double[] values = Enumerable.Range(0, 100_000).Select(i => i * 1.5).ToArray();
        using var file = MemoryFileOf(values);
        using var mapped = MappedMemory<double>.MapPrivate(file, values.Length);
        Assert.That(mapped.Memory.Span.SequenceEqual(values));
        mapped.Memory.Span[7] = -1;
        Assert.That(mapped.Memory.Span[7], Is.EqualTo(-1.0));
        var back = new double[values.Length];
        RandomAccess.Read(file, MemoryMarshal.AsBytes(back.AsSpan()), 0);
        Assert.That(back[7], Is.EqualTo(7 * 1.5), "the mapping is private: the file (other engines' data) is unchanged");
    }

    [Test, CancelAfter(10_000)]
    public void MappingOutlivesTheDescriptorAndDisposeEndsIt()
    {
        double[] values = [1, 2, 3];
        var file = MemoryFileOf(values);
        var mapped = MappedMemory<double>.MapPrivate(file, values.Length);
        file.Dispose();
        Assert.That(mapped.Memory.ToArray(), Is.EqualTo(values));
        var pin = mapped.Memory.Pin();
        ((IDisposable)mapped).Dispose();
        Assert.That(mapped.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => mapped.GetSpan());
        Assert.Throws<ObjectDisposedException>(() => mapped.Pin());
        pin.Dispose(); // the last pin gone: now it is unmapped
    }

    [Test, CancelAfter(10_000)]
    public void MappingMoreThanTheFileHoldsIsRefusedByTheCaller()
    {
        var part = PyMpiBridge.Parallel.Wire.ReceivedPart.FromDescriptor(MemoryFileOf([1, 2]), 16);
        using (part)
        {
            var e = Assert.Throws<ArgumentException>(() => part.Map<double>(3));
            Assert.That(e!.Message, Does.Contain("16 bytes").And.Contain("3 elements"));
            using var two = part.Map<double>(2);
            Assert.That(two.Memory.ToArray(), Is.EqualTo(new[] { 1.0, 2 }));
        }
        var stream = new PyMpiBridge.Parallel.Wire.ReceivedPart(new byte[16]);
        Assert.Throws<InvalidOperationException>(() => stream.Map<double>(2));
    }
}
