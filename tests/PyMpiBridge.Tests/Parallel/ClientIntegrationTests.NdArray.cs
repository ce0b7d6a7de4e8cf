using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Results asked for as <see cref="NdArray{T}"/>: numpy arrays of local engines mapped here, not copied.</summary>
public sealed partial class ClientIntegrationTests
{
    [Test, CancelAfter(120_000)]
    public async Task PullAsNdArrayMapsTheEnginesMemoryFileAndWritesStayHere()
    {
        double[] big = Enumerable.Range(0, 1 << 20).Select(i => i * 0.25).ToArray(); // 8 MiB: passes as a memory file
        await Client[..].PushAsync("big", big);
        NdArray<double>[] pulled = await Client[..].PullAsync<NdArray<double>>("big");
        try
        {
            Assert.That(pulled, Has.Length.EqualTo(2));
            foreach (var p in pulled)
            {
                Assert.That(p.IsMapped, "a local engine's large array is mapped, not copied");
                Assert.That(p.Shape, Is.EqualTo(new[] { 1 << 20 }));
                Assert.That(p.Span.SequenceEqual(big));
            }
            pulled[0].Span[0] = -1; // copy-on-write: the engine's array and the other engine's are untouched
            Assert.That(pulled[1].Span[0], Is.Zero);
            Assert.That((await Client[0].PullAsync<double[]>("big"))[0][0], Is.Zero);
        }
        finally
        {
            foreach (var p in pulled) p.Dispose();
        }
        Assert.Throws<ObjectDisposedException>(() => _ = pulled[0].Memory);
        Assert.Throws<ObjectDisposedException>(() => pulled[1].Span.ToArray());
    }

    [Test, CancelAfter(120_000)]
    public async Task NdArraysOfSmallAndColumnMajorArraysAreRowMajorCopies()
    {
        await Client[0].ExecuteAsync("import numpy as np\nsmall = np.arange(6, dtype=np.int32).reshape(2, 3)\n" +
                                     "fortran = np.asfortranarray(np.arange(300_000.0).reshape(1000, 300))\n");
        using var small = (await Client[0].PullAsync<NdArray<int>>("small"))[0];
        Assert.That(small.IsMapped, Is.False, "an array below 1 MiB came in the stream");
        Assert.That(small.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(small.ToArray(), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));

        using var fortran = (await Client[0].PullAsync<NdArray<double>>("fortran"))[0];
        Assert.That(fortran.IsMapped, Is.False, "column-major data is rearranged, so copied");
        Assert.That(fortran.Shape, Is.EqualTo(new[] { 1000, 300 }));
        Assert.That(fortran.Span.SequenceEqual(Enumerable.Range(0, 300_000).Select(i => (double)i).ToArray()), "row-major order");

        // every numpy array of a result asked for with NdArray inside arrives as one
        var three = (await Client[0].ApplyAsync<NdArray<int>[]>("def three():\n    return [small, small, small]\n", "three"))[0];
        Assert.That(three, Has.Length.EqualTo(3));
        Assert.That(three.Select(a => a.ToArray()), Is.All.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
    }

    [Test, CancelAfter(120_000)]
    public async Task NdArrayOfAnotherElementTypeOrOfNoArrayIsAClearError()
    {
        await Client[0].PushAsync(new Dictionary<string, object?> { ["f"] = new double[200_000], ["s"] = "text" });
        var e = Assert.ThrowsAsync<InvalidCastException>(async () => await Client[0].PullAsync<NdArray<float>>("f"));
        Assert.That(e!.Message, Does.Contain("engine 0").And.Contain("f8").And.Contain("ask for NdArray<Double>"));
        var s = Assert.ThrowsAsync<InvalidCastException>(async () => await Client[0].PullAsync<NdArray<double>>("s"));
        Assert.That(s!.Message, Does.Contain("a str, not a numpy array"));
        await Client[0].ExecuteAsync("import numpy as np\nscalar = np.float64(2.5)");
        var z = Assert.ThrowsAsync<InvalidCastException>(async () => await Client[0].PullAsync<NdArray<double>>("scalar"));
        Assert.That(z!.Message, Does.Contain("a float, not a numpy array"), "a 0-d array arrives as its value");
        // the cluster stays usable
        using var f = (await Client[0].PullAsync<NdArray<double>>("f"))[0];
        Assert.That(f.Length, Is.EqualTo(200_000));
    }
}
