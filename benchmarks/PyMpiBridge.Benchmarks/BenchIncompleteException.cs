namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Some implementations of a suite failed. Carries what the others measured, so the report still
/// shows it, while the command exits non-zero.
/// </summary>
public sealed class BenchIncompleteException(string message, IReadOnlyList<BenchRecord> partialRecords) : Exception(message)
{
    /// <summary>Records of the implementations that did run.</summary>
    public IReadOnlyList<BenchRecord> PartialRecords { get; } = partialRecords;
}
