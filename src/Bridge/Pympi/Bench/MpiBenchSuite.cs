namespace PyMpiBridge.Tool.Bench;

/// <summary>Ping-pong and Allreduce: native C, our C# binding, mpi4py. (Being written.)</summary>
public sealed class MpiBenchSuite : IBenchSuite
{
    public string BaselineImpl => "c";
    public Task<IReadOnlyList<BenchRecord>> RunAsync(IReadOnlyList<string> args)
        => throw new NotImplementedException("bench mpi is being written");
}
