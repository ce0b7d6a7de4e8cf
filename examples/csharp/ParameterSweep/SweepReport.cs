using System.Globalization;
using PyMpiBridge.Mpi;

namespace PyMpiBridge.Examples.ParameterSweep;

/// <summary>Rank 0's summary: what ran where, how long it took, and what the sweep found.</summary>
public static class SweepReport
{
    public static void Print(ParameterGrid grid, int[] counts, double[] seconds, long[] steps, int[] jobs, double[] amplitudes,
        double maxError, double wall, int size)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("PyMpiBridge demo: parameter sweep over MPI ranks, C# on our MPI binding");
        Console.WriteLine($"  MPI: {MpiEnvironment.Abi} ({MpiEnvironment.LibraryPath}), {size} ranks, thread level {MpiEnvironment.ProvidedThreadLevel}");
        Console.WriteLine($"  Model: driven damped oscillator x'' + γx' + x = cos(ωt), RK4; steady-state amplitude per (γ, ω)");
        Console.WriteLine($"  Grid: {grid.Describe()}; shuffled on rank 0, Bcast, split, Gatherv back");
        Console.WriteLine();
        Console.WriteLine("  rank   jobs   RK4 steps   compute s");
        for (int r = 0; r < counts.Length; r++)
            Console.WriteLine(string.Format(c, "  {0,4} {1,6} {2,11:N0} {3,11:F3}", r, counts[r], steps[r], seconds[r]));
        Console.WriteLine(string.Format(c, "  {0,4} {1,6} {2,11:N0} {3,11:F3}", "all", counts.Sum(), steps.Sum(), seconds.Sum()));
        Console.WriteLine();
        Console.WriteLine("  Strongest responses (resonance near ω = 1, growing as damping falls):");
        Console.WriteLine("       γ       ω    amplitude   exact");
        foreach (int i in Enumerable.Range(0, jobs.Length).OrderByDescending(i => amplitudes[i]).Take(5))
        {
            var (g, w) = grid[jobs[i]];
            Console.WriteLine(string.Format(c, "  {0,6:F3} {1,7:F3} {2,12:F4} {3,7:F4}", g, w, amplitudes[i], Oscillator.ExactAmplitude(g, w)));
        }
        Console.WriteLine();
        double balance = seconds.Max() > 0 ? seconds.Average() / seconds.Max() : 1;
        Console.WriteLine(string.Format(c, "  Jobs gathered: {0}/{1}; worst deviation from the exact amplitude: {2:P3}", jobs.Length, grid.Count, maxError));
        Console.WriteLine(string.Format(c, "  Wall time {0:F3} s for {1:F3} s of compute; load balance (mean/max rank time) {2:P0}", wall, seconds.Sum(), balance));
        Console.WriteLine();
    }
}
