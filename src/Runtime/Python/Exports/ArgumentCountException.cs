namespace PyMpiBridge.Python;

/// <summary>Wrong number or names of arguments in a call from Python (raised there as TypeError).</summary>
public sealed class ArgumentCountException(string message) : ArgumentException(message);
