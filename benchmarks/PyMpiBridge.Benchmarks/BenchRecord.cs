using System.Text.Json.Serialization;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// One measurement, in the JSON shape every suite writes:
/// <c>{"name","impl","size_bytes","metric","value"}</c>, plus <c>"engines"</c> for the parallel suite's scaling runs
/// (the same metric measured on clusters of several sizes).
/// </summary>
public sealed record BenchRecord(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("impl")] string Impl,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("engines"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Engines = null)
{
    /// <summary>True when a larger value is better (bandwidth), false for times.</summary>
    [JsonIgnore]
    public bool HigherIsBetter => Metric.Contains("bandwidth", StringComparison.Ordinal) || Metric.EndsWith("per_s", StringComparison.Ordinal)
        || Metric.EndsWith("GBps", StringComparison.Ordinal);
}
