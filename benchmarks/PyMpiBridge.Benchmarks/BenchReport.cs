using System.Text.Json;
using Spectre.Console;

namespace PyMpiBridge.Benchmarks;

/// <summary>Prints records as a table with ratios to a baseline implementation, and writes JSON.</summary>
public static class BenchReport
{
    /// <summary>
    /// One row per (name, metric, size); one column per implementation; a ratio column for each
    /// implementation against <paramref name="baselineImpl"/> measured in the same run.
    /// Ratio is "how many times the baseline's cost": for times value/baseline, for bandwidth baseline/value,
    /// so below 1.0 always means faster than the baseline.
    /// </summary>
    /// <param name="comparisons">Further ratio columns, one per (implementation, baseline) pair (e.g. ours against a peer).</param>
    /// <param name="note">How the suite measured (e.g. its GIL discipline), printed under the table.</param>
    public static void PrintTable(string title, IReadOnlyList<BenchRecord> records, string baselineImpl,
        IReadOnlyList<(string Impl, string Baseline)>? comparisons = null, string? note = null)
    {
        var impls = records.Select(r => r.Impl).Distinct().ToList();
        var table = new Table().Title(title).Border(TableBorder.Rounded);
        table.AddColumn("benchmark");
        table.AddColumn("size", c => c.RightAligned());
        table.AddColumn("metric");
        foreach (string impl in impls) table.AddColumn(impl, c => c.RightAligned());
        // A ratio column only for implementations measured somewhere beside the baseline (a suite may hold
        // measurements with other natural baselines, e.g. memcpy or plain python; an all-dash column helps nobody).
        var baselineKeys = records.Where(r => r.Impl == baselineImpl).Select(r => (r.Name, r.Metric, r.SizeBytes, r.Engines)).ToHashSet();
        var others = impls.Where(i => i != baselineImpl && records.Any(r => r.Impl == i && baselineKeys.Contains((r.Name, r.Metric, r.SizeBytes, r.Engines)))).ToList();
        bool hasBaseline = impls.Contains(baselineImpl);
        if (hasBaseline) foreach (string impl in others) table.AddColumn($"{impl}/{baselineImpl}", c => c.RightAligned());
        var pairs = (comparisons ?? []).Where(p => impls.Contains(p.Impl) && impls.Contains(p.Baseline)).ToList();
        foreach (var (impl, baseline) in pairs) table.AddColumn($"{impl}/{baseline}", c => c.RightAligned());
        if (note is not null) table.Caption(note);

        foreach (var group in records.GroupBy(r => (r.Name, r.Metric, r.SizeBytes, r.Engines)))
        {
            var byImpl = group.GroupBy(r => r.Impl).ToDictionary(g => g.Key, g => g.Last());
            string size = group.Key.Engines is { } engines ? $"{engines} engines" : FormatSize(group.Key.SizeBytes);
            var cells = new List<string> { group.Key.Name, size, group.Key.Metric };
            foreach (string impl in impls) cells.Add(byImpl.TryGetValue(impl, out var r) ? FormatValue(r.Value) : "—");
            if (hasBaseline)
            {
                byImpl.TryGetValue(baselineImpl, out var baseline);
                foreach (string impl in others)
                    cells.Add(baseline is not null && byImpl.TryGetValue(impl, out var r) ? FormatRatio(Ratio(r, baseline)) : "—");
            }
            foreach (var (impl, baseline) in pairs)
                cells.Add(byImpl.TryGetValue(impl, out var r) && byImpl.TryGetValue(baseline, out var b) ? FormatRatio(Ratio(r, b)) : "—");
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        // Redirected output (files, CI logs, a parent process) gets Spectre's 80-column default, which wraps
        // the metric names mid-word; a wider canvas costs nothing there because the table takes only what it needs.
        // Colour codes would land in the file as garbage.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            AnsiConsole.Profile.Capabilities.Ansi = false;
        }
        AnsiConsole.Write(table);
    }

    /// <summary>Cost of <paramref name="r"/> relative to <paramref name="baseline"/>: below 1 is faster.</summary>
    public static double Ratio(BenchRecord r, BenchRecord baseline)
        => r.HigherIsBetter ? baseline.Value / r.Value : r.Value / baseline.Value;

    public static void WriteJson(string path, IReadOnlyList<BenchRecord> records)
    {
        File.WriteAllText(path, JsonSerializer.Serialize(records, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {records.Count} records to {path}");
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        0 => "-",
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    private static string FormatValue(double v) => v switch
    {
        >= 1000 => v.ToString("F0"),
        >= 10 => v.ToString("F1"),
        >= 1 => v.ToString("F2"),
        _ => v.ToString("F3"),
    };

    private static string FormatRatio(double r) => r.ToString("F2") + "×";
}
