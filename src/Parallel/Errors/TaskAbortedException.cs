namespace PyMpiBridge.Parallel;

/// <summary>The task was aborted before it started (<c>client.Abort</c>, <c>ar.Abort()</c> or a cancelled token); ipyparallel's <c>TaskAborted</c>.</summary>
public sealed class TaskAbortedException(string message) : Exception(message);
