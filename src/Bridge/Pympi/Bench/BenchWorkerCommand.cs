using PyMpiBridge.Tool.Bench;

namespace PyMpiBridge.Tool;

/// <summary>
/// Hidden command <c>pympi bench-worker SUITE ...</c>: the code a benchmark suite runs inside each
/// MPI rank. Not for users: <c>pympi bench</c> launches it under mpiexec.
/// </summary>
public static class BenchWorkerCommand
{
    public static int Run(string[] args) => args.FirstOrDefault() switch
    {
        "mpi" => MpiBenchWorker.Run(args[1..]),
        "bridge" => BridgeBenchWorker.Run(args[1..]),
        _ => throw new UsageException("bench-worker is started by 'pympi bench'; it takes a suite name: mpi, bridge."),
    };
}
