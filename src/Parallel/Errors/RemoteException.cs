namespace PyMpiBridge.Parallel;

/// <summary>
/// An exception raised by Python code on an engine (ipyparallel's <c>RemoteError</c>): <see cref="EngineId"/>, the
/// Python exception type <see cref="PythonType"/> (e.g. <c>ZeroDivisionError</c>), its message and the remote traceback.
/// </summary>
public sealed class RemoteException : Exception
{
    public RemoteException(int? engineId, string method, string pythonType, string pythonMessage, string? remoteTraceback)
        : base($"[{(engineId is null ? "?" : engineId.ToString())}:{method}] {pythonType}: {pythonMessage}")
    {
        EngineId = engineId;
        Method = method;
        PythonType = pythonType;
        PythonMessage = pythonMessage;
        RemoteTraceback = remoteTraceback ?? "";
    }

    /// <summary>The engine that raised it.</summary>
    public int? EngineId { get; }
    /// <summary>What the task was: apply, execute, push, pull, clear.</summary>
    public string Method { get; }
    /// <summary>The Python exception's type name (<c>ename</c>).</summary>
    public string PythonType { get; }
    /// <summary><c>str()</c> of the Python exception (<c>evalue</c>).</summary>
    public string PythonMessage { get; }
    /// <summary>The traceback as Python formats it, engine frames removed.</summary>
    public string RemoteTraceback { get; }

    public override string ToString() => $"{base.ToString()}{Environment.NewLine}--- remote traceback ---{Environment.NewLine}{RemoteTraceback}";
}
