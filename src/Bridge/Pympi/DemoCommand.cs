namespace PyMpiBridge.Tool;

/// <summary><c>pympi demo</c>: the multi-rank demo. (Being written.)</summary>
public static class DemoCommand
{
    public static Task<int> RunAsync(string[] args) => throw new NotImplementedException("demo is being written");
}
