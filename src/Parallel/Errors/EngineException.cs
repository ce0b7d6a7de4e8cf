namespace PyMpiBridge.Parallel;

/// <summary>An engine died, or became unreachable, while it had this task (ipyparallel's <c>EngineError</c>).</summary>
public sealed class EngineException(int engineId, string message) : Exception($"engine {engineId}: {message}")
{
    public int EngineId { get; } = engineId;
}
