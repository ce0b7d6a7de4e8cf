namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Hidden command <c>worker SUITE ...</c> of the benchmark program: the code a benchmark suite runs inside each
/// MPI rank. Not for users: <c>pympi bench</c> launches it under mpiexec.
/// </summary>
public static class BenchWorkerCommand
{
    public const string Name = "worker";

    public static int Run(string[] args) => args.FirstOrDefault() switch
    {
        "mpi" => MpiBenchWorker.Run(args[1..]),
        "bridge" => BridgeBenchWorker.Run(args[1..]),
        "parallel-csharp" => ParallelCSharpWorker.Run(args[1..]),
        _ => throw new UsageException("worker is started by 'pympi bench'; it takes a suite name: mpi, bridge, parallel-csharp."),
    };
}
