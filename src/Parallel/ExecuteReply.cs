namespace PyMpiBridge.Parallel;

/// <summary>The value of the last expression of non-silent executed code on one engine, as its <c>repr</c>.</summary>
public sealed record ExecuteReply(int EngineId, int ExecutionCount, string TextPlain);
