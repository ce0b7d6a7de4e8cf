namespace PyMpiBridge.Benchmarks;

/// <summary>
/// The bridge's goals, checked against one run's records. The table's ratios are against native C; these compare
/// each measurement with its own natural baseline (plain mpi4py, plain python, memcpy), which the table cannot show.
/// </summary>
internal static class BridgeBenchTargets
{
    /// <summary>One line per goal that the records allow to judge: measured ratio, goal, met or missed.</summary>
    public static IReadOnlyList<string> Describe(IReadOnlyList<BenchRecord> records)
    {
        var lines = new List<string>();
        BenchRecord? Find(string name, string impl, long size, string metric)
            => records.FirstOrDefault(r => r.Name == name && r.Impl == impl && r.SizeBytes == size && r.Metric == metric);

        if (Find("pingpong", BridgeBenchWorker.PingPongImpl, 1 << 20, "bandwidth_MBps") is { } bridged && Find("pingpong", "c", 1 << 20, "bandwidth_MBps") is { } native)
        {
            double share = bridged.Value / native.Value;
            lines.Add($"C#<->Python bandwidth at 1 MiB: {bridged.Value:F0} MB/s = {share:F2}x native C ({native.Value:F0} MB/s); goal >= 0.90x: {Verdict(share >= 0.90)}");
        }

        var hosted = records.Where(r => r.Name == "pingpong" && r.Impl == "mpi4py-hosted").ToList();
        var pairs = hosted
            .Select(h => (h, plain: Find("pingpong", "mpi4py", h.SizeBytes, h.Metric)))
            .Where(p => p.plain is not null)
            .Select(p => (p.h.SizeBytes, p.h.Metric, cost: BenchReport.Ratio(p.h, p.plain!)))
            .ToList();
        if (pairs.Count > 0)
        {
            var worst = pairs.MaxBy(p => Math.Abs(p.cost - 1));
            lines.Add($"mpi4py under pympi vs plain mpi4py: cost ratio {pairs.Min(p => p.cost):F3}..{pairs.Max(p => p.cost):F3} over {pairs.Count} measurements " +
                      $"(furthest: {worst.Metric} at {BenchReport.FormatSize(worst.SizeBytes)}, {worst.cost:F3}x); goal within 5%: {Verdict(pairs.All(p => Math.Abs(p.cost - 1) <= 0.05))}");
        }

        if (Find("startup", "pympi", 0, "s") is { } ours && Find("startup", "python", 0, "s") is { } python)
        {
            double ratio = ours.Value / python.Value;
            lines.Add($"4-rank start-up: pympi {ours.Value:F3} s vs python {python.Value:F3} s = {ratio:F2}x; goal <= 1.30x: {Verdict(ratio <= 1.30)}");
        }

        foreach (var handOff in records.Where(r => r.Name == "array_to_numpy" && r.Impl == "csharp").OrderBy(r => r.SizeBytes))
            if (Find("array_to_numpy", "memcpy", handOff.SizeBytes, "us") is { } copy)
                lines.Add($"array_to_numpy {BenchReport.FormatSize(handOff.SizeBytes)}: {handOff.Value:F3} us vs memcpy {copy.Value:F3} us ({handOff.Value / copy.Value:F2}x)");
        return lines;
    }

    private static string Verdict(bool met) => met ? "met" : "MISSED";
}
