namespace PyMpiBridge.Parallel;

/// <summary>Results were not ready within the time asked for (<c>AsyncResult.Get(timeout)</c>); the tasks go on.</summary>
public sealed class TaskTimeoutException(string message) : TimeoutException(message);
