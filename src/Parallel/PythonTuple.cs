using System.Runtime.CompilerServices;

namespace PyMpiBridge.Parallel;

/// <summary>A Python tuple to send (a .NET <c>object[]</c> is sent as a list; C# tuples are sent as tuples too).</summary>
public sealed class PythonTuple(params object?[] items) : ITuple
{
    public object? this[int index] => items[index];
    public int Length => items.Length;
}
