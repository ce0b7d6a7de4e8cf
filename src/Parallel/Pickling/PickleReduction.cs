namespace PyMpiBridge.Parallel;

/// <summary>
/// A value that engines rebuild by calling <c>module.name(*arguments)</c> when they unpickle it (what a Python
/// <c>__reduce__</c> returns). The arguments are pickled like any other value, arrays out of band.
/// </summary>
public sealed record PickleReduction(string Module, string Name, params object?[] Arguments);
