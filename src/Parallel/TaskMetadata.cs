namespace PyMpiBridge.Parallel;

/// <summary>What is known of one task on one engine (ipyparallel's <c>ar.metadata[i]</c>); times are UTC.</summary>
public sealed record TaskMetadata(
    string MsgId, int EngineId, string EngineUuid, DateTime Submitted, DateTime? Started, DateTime? Completed,
    DateTime Received, string Status, string Stdout, string Stderr);
