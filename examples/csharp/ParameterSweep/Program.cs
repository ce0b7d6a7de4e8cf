using System.Diagnostics;
using PyMpiBridge.Mpi;

namespace PyMpiBridge.Examples.ParameterSweep;

/// <summary>
/// Seed 003's parameter sweep, in C# on our MPI binding: rank 0 builds and shuffles the job list, Bcast
/// sends it to everyone, each rank simulates its share, Gatherv collects the results on rank 0, which
/// prints a summary. Run: <c>mpiexec -n 4 dotnet ParameterSweep.dll</c> (or <c>./pympi demo</c>).
/// </summary>
public static class Program
{
    public static int Main()
    {
        MpiEnvironment.Init();
        try
        {
            return Run(Comm.World);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"rank {Comm.World.Rank}: {e}");
            MpiEnvironment.Abort(1); // never leave the other ranks waiting in a collective
            return 1;
        }
        finally
        {
            MpiEnvironment.Finalize();
        }
    }

    private static int Run(Comm world)
    {
        var grid = ParameterGrid.Default;
        int rank = world.Rank, size = world.Size;
        world.Barrier();
        double start = MpiEnvironment.Wtime();

        // 1. Rank 0 shuffles the job indices, so cheap and expensive jobs spread evenly; Bcast shares the order.
        int[] order = new int[grid.Count];
        if (rank == 0)
        {
            for (int i = 0; i < order.Length; i++) order[i] = i;
            new Random(2024).Shuffle(order);
        }
        world.Bcast<int>(order, root: 0);

        // 2. Each rank takes a contiguous slice of the shuffled list (any job count, any rank count).
        int first = (int)((long)grid.Count * rank / size), last = (int)((long)grid.Count * (rank + 1) / size);
        int mine = last - first;
        var jobs = new int[mine];
        var amplitudes = new double[mine];
        var errors = new double[mine];
        long steps = 0;
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < mine; k++)
        {
            int job = order[first + k];
            var (damping, drive) = grid[job];
            var (amplitude, n) = Oscillator.SteadyStateAmplitude(damping, drive);
            jobs[k] = job;
            amplitudes[k] = amplitude;
            errors[k] = Math.Abs(amplitude / Oscillator.ExactAmplitude(damping, drive) - 1);
            steps += n;
        }
        double computeSeconds = clock.Elapsed.TotalSeconds;

        // 3. Gather results to rank 0: per-rank counts first, then the variable-length blocks.
        int[] counts = world.Gather(mine, root: 0);
        double[] seconds = world.Gather(computeSeconds, root: 0);
        long[] stepsPerRank = world.Gather(steps, root: 0);
        int total = rank == 0 ? counts.Sum() : 0;
        var allJobs = new int[total];
        var allAmplitudes = new double[total];
        var allErrors = new double[total];
        world.Gatherv<int>(jobs, allJobs, counts, root: 0);
        world.Gatherv<double>(amplitudes, allAmplitudes, counts, root: 0);
        world.Gatherv<double>(errors, allErrors, counts, root: 0);
        double maxError = world.Allreduce(errors.DefaultIfEmpty(0).Max(), Op.Max);
        double wall = MpiEnvironment.Wtime() - start;

        if (rank == 0)
            SweepReport.Print(grid, counts, seconds, stepsPerRank, allJobs, allAmplitudes, maxError, wall, size);
        return total == grid.Count || rank != 0 ? 0 : 1;
    }
}
