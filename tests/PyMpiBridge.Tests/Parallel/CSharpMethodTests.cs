using System.Runtime.Loader;
using PyMpiBridge.Parallel;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>
/// C# static methods run on engines (which are .NET processes): applied and mapped, with the engines' world and pushed
/// arrays as arguments; and what cannot run there refused with a message saying what to do.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class CSharpMethodTests() : TwoEngineClusterFixture("csharp-method-tests")
{

    [Test, CancelAfter(60_000)]
    public async Task StaticMethodGetsTheEnginesWorld()
    {
        Assert.That(await Client[..].ApplyAsync<int>(EngineKernels.Rank, Reference.World), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(await Client.LoadBalancedView([1]).ApplyAsync<int>(EngineKernels.Rank, Reference.World), Is.EqualTo(1));
    }

    [Test, CancelAfter(60_000)]
    public async Task StaticMethodTakesAPushedArrayByNameWithoutCopying()
    {
        double[] data = Enumerable.Range(1, 10).Select(i => (double)i).ToArray();
        await Client[..].ScatterAsync("x", data);
        double[] sums = await Client[..].ApplyAsync<double>(EngineKernels.SumOnAllEngines, Reference.World, new Reference("x"));
        Assert.That(sums, Is.EqualTo(new[] { 55.0, 55.0 }), "each engine summed its part, MPI added them up");

        double[][] scaled = await Client[..].ApplyAsync<double[]>(EngineKernels.ScaleInPlace, new Reference("x"), 10.0);
        Assert.That(scaled[0], Is.EqualTo(new[] { 10.0, 20, 30, 40, 50 }), "a double[] result comes back as a .NET array");
        Assert.That(await Client[..].GatherAsync<double>("x"), Is.EqualTo(data.Select(v => v * 10)),
            "the method changed the engines' numpy arrays in place");
    }

    [Test, CancelAfter(60_000)]
    public async Task MapRunsTheMethodOnEveryItem()
    {
        double[] data = Enumerable.Range(0, 1000).Select(i => i * 0.5).ToArray();
        var lb = Client.LoadBalancedView();
        lb.ChunkSize = 64;
        var ar = lb.MapAsync(EngineKernels.Square, data);
        Assert.That(await ar, Is.EqualTo(data.Select(x => x * x)));
        Assert.That(ar.TaskCount, Is.EqualTo(16));
        Assert.That(ar.EngineIds.Distinct().Count(), Is.EqualTo(2), "both engines ran chunks");

        long[] xs = [1, 2, 3, 4, 5];
        Assert.That(await Client[..].MapAsync(EngineKernels.Scale, xs, new[] { 0.5, 1.5, 2.5 }), Is.EqualTo(new[] { 0L, 3L, 8L }),
            "two sequences, cut to the shorter");
        Assert.That(await Client[..].MapAsync<string, int, string>(EngineKernels.Label, ["a", "b", "c"], [1, 2, 3]),
            Is.EqualTo(new[] { "a:1", "b:2", "c:3" }), "strings travel as lists");
    }

    [Test, CancelAfter(60_000)]
    public void LambdasAndInstanceMethodsAreRefused()
    {
        double factor = 3;
        var captured = Assert.Throws<ArgumentException>(() => Client[..].MapAsync((double x) => x * factor, new[] { 1.0 }));
        Assert.That(captured!.Message, Does.Contain("lambda").And.Contain("Use a static method"));
        Assert.Throws<ArgumentException>(() => Client.LoadBalancedView().MapAsync((double x) => x + 1, new[] { 1.0 }),
            "a lambda without captures is still an instance method of a closure class");
        var text = "abc";
        var instance = Assert.Throws<ArgumentException>(() => Client[..].ApplyAsync<int>(new Func<int>(text.GetHashCode)));
        Assert.That(instance!.Message, Does.Contain("instance method"));
    }

    [Test, CancelAfter(60_000)]
    public async Task AssemblyTheEnginesCannotLoadIsAClearError()
    {
        // a build of the kernels that exists only where the client loaded it from
        string copy = Path.Combine(Dir.Path, "copied", Path.GetFileName(typeof(EngineKernels).Assembly.Location));
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(typeof(EngineKernels).Assembly.Location, copy);
        var context = new AssemblyLoadContext("client-only", isCollectible: true);
        var type = context.LoadFromAssemblyPath(copy).GetType(typeof(EngineKernels).FullName!)!;
        var square = type.GetMethod(nameof(EngineKernels.Square))!.CreateDelegate<Func<double, double>>();
        File.Delete(copy);

        var missing = Assert.ThrowsAsync<CompositeException>(async () => await Client[..].ApplyAsync<double>(square, 2.0));
        var first = (RemoteException)missing!.InnerExceptions[0];
        Assert.That(first.PythonType, Is.EqualTo("FileNotFoundError"));
        Assert.That(first.PythonMessage, Does.Contain("cannot load the C# method's assembly").And.Contain(copy));

        var method = CSharpMethod.From(EngineKernels.Square);
        var otherBuild = Assert.ThrowsAsync<RemoteException>(async () =>
            await Client[0].ApplyAsync<double>(method with { Build = Guid.NewGuid() }, 2.0));
        Assert.That(otherBuild!.PythonMessage, Does.Contain("another build than the client's"));

        Assert.That(await Client[..].ApplyAsync<double>(EngineKernels.Square, 3.0), Is.EqualTo(new[] { 9.0, 9.0 }),
            "the cluster stays usable");
        context.Unload();
    }

    [Test, CancelAfter(60_000)]
    public async Task ExceptionInAMethodComesBackAsRemoteException()
    {
        var e = Assert.ThrowsAsync<RemoteException>(async () => await Client[1].ApplyAsync<double>(EngineKernels.Refuse, 4.0));
        Assert.That(e!.EngineId, Is.EqualTo(1));
        Assert.That(e.PythonMessage, Does.Contain("InvalidOperationException").And.Contain("the kernel refuses 4"));
        var wrongArgument = Assert.ThrowsAsync<RemoteException>(async () => await Client[0].ApplyAsync<double>(EngineKernels.Square, "text"));
        Assert.That(wrongArgument!.PythonType, Is.EqualTo("TypeError"));
        Assert.That(await Client[0].ApplyAsync<double>(EngineKernels.Square, 1.5), Is.EqualTo(new[] { 2.25 }));
    }
}
