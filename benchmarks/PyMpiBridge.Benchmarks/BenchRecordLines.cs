using System.Text.Json;
using System.Text.RegularExpressions;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Reads the records a benchmark program prints: one <see cref="BenchRecord"/> JSON object per
/// stdout line. Other lines (launcher chatter) are ignored; a malformed record is an error, because
/// a silently dropped measurement would make the table lie.
/// </summary>
internal static partial class BenchRecordLines
{
    [GeneratedRegex(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|[0-Z\\-_])")]
    private static partial Regex AnsiEscape();

    public static IReadOnlyList<BenchRecord> Parse(IEnumerable<string> lines, string expectedImpl)
        => Parse(lines, expectedImpl, []);

    /// <summary>As <see cref="Parse(IEnumerable{string}, string)"/>, for a program that measures several implementations.</summary>
    public static IReadOnlyList<BenchRecord> Parse(IEnumerable<string> lines, string expectedImpl, IReadOnlyCollection<string> alsoExpected)
    {
        var records = new List<BenchRecord>();
        foreach (string raw in lines)
        {
            // Terminal control sequences can precede a record when a rank's stdout is a pty.
            string line = AnsiEscape().Replace(raw, "").Trim();
            if (!line.StartsWith('{')) continue;
            BenchRecord? r;
            try { r = JsonSerializer.Deserialize<BenchRecord>(line); }
            catch (JsonException e) { throw new FormatException($"{expectedImpl}: not a benchmark record: {line} ({e.Message})"); }
            if (r is null || string.IsNullOrEmpty(r.Name) || string.IsNullOrEmpty(r.Metric))
                throw new FormatException($"{expectedImpl}: record without name or metric: {line}");
            if (r.Impl != expectedImpl && !alsoExpected.Contains(r.Impl))
                throw new FormatException($"{expectedImpl}: record claims impl '{r.Impl}': {line}");
            if (!double.IsFinite(r.Value) || r.Value <= 0 || r.SizeBytes < 0)
                throw new FormatException($"{expectedImpl}: implausible value or size: {line}");
            records.Add(r);
        }
        return records;
    }
}
