namespace PyMpiBridge.Tool.Bench;

/// <summary>Calls and array hand-offs between C# and embedded CPython. (Being written.)</summary>
public sealed class PythonBenchSuite : IBenchSuite
{
    public string BaselineImpl => "memcpy";
    public Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
        => throw new NotImplementedException("bench python is being written");
}
