namespace PyMpiBridge.Parallel;

/// <summary>A pickle uses something this C# codec does not read (an opcode, a class, a dtype); the message names it.</summary>
public sealed class UnsupportedPickleException(string message) : NotSupportedException(message);
