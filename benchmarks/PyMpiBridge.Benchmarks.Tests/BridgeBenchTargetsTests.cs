namespace PyMpiBridge.Benchmarks.Tests;

/// <summary>The goal lines of <c>bench bridge</c> compare each measurement with its own baseline and say met or missed.</summary>
public class BridgeBenchTargetsTests
{
    private static BenchRecord R(string name, string impl, long size, string metric, double value) => new(name, impl, size, metric, value);

    [Test]
    public void Describe_BandwidthAtOneMiB_IsAShareOfNativeC()
    {
        var lines = BridgeBenchTargets.Describe([
            R("pingpong", "c", 1 << 20, "bandwidth_MBps", 5000), R("pingpong", "csharp-python", 1 << 20, "bandwidth_MBps", 4000)]);
        Assert.That(lines.Single(), Does.Contain("0.80x native C").And.Contain("MISSED"));
    }

    [Test]
    public void Describe_HostedMpi4py_IsMetOnlyWhenEveryMeasurementIsWithinFivePercent()
    {
        var within = BridgeBenchTargets.Describe([
            R("pingpong", "mpi4py", 8, "latency_us", 2.0), R("pingpong", "mpi4py-hosted", 8, "latency_us", 2.08),
            R("pingpong", "mpi4py", 1 << 20, "bandwidth_MBps", 5000), R("pingpong", "mpi4py-hosted", 1 << 20, "bandwidth_MBps", 4900)]);
        Assert.That(within.Single(), Does.Contain("met").And.Not.Contain("MISSED"));

        var outside = BridgeBenchTargets.Describe([
            R("pingpong", "mpi4py", 8, "latency_us", 2.0), R("pingpong", "mpi4py-hosted", 8, "latency_us", 2.2)]);
        Assert.That(outside.Single(), Does.Contain("1.100x").And.Contain("MISSED"));
    }

    [Test]
    public void Describe_Startup_ComparesWithPlainPython()
    {
        var lines = BridgeBenchTargets.Describe([R("startup", "pympi", 0, "s", 0.6), R("startup", "python", 0, "s", 0.5)]);
        Assert.That(lines.Single(), Does.Contain("1.20x").And.Contain("met"));
    }

    [Test]
    public void Describe_WithoutTheBaseline_SaysNothingRatherThanGuessing()
        => Assert.That(BridgeBenchTargets.Describe([R("pingpong", "csharp-python", 1 << 20, "bandwidth_MBps", 4000), R("startup", "pympi", 0, "s", 0.6)]), Is.Empty);
}
