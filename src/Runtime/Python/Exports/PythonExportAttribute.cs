namespace PyMpiBridge.Python;

/// <summary>Marks a static method to be exported to Python by <see cref="BridgeModule.RegisterAll(Type)"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PythonExportAttribute(string? name = null) : Attribute
{
    /// <summary>The Python name (default: the method name in snake_case).</summary>
    public string? Name { get; } = name;

    /// <summary>The function's <c>__doc__</c>.</summary>
    public string? Doc { get; init; }
}
