namespace PyMpiBridge.Parallel;

/// <summary>A cluster connection (controller or engine) closed or broke in the middle of a frame.</summary>
public sealed class ConnectionLostException(string message) : IOException(message);
