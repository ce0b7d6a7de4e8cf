using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Examples.Kernels;

/// <summary>
/// A hot loop moved from Python to C#, one function at a time: Python keeps the driver, the communicator and the
/// numpy arrays; C# gets the same memory (no copy) and the same communicator.
/// </summary>
public static class StencilKernels
{
    /// <summary>
    /// One Jacobi step of 1-D heat diffusion on this rank's slab <c>u</c> (in place), exchanging one halo cell with
    /// each neighbour over <paramref name="comm"/>; returns the global max change (Allreduce).
    /// </summary>
    [PythonExport]
    public static double DiffuseStep(Comm comm, PyBuffer<double> u, double alpha)
    {
        if (u.IsReadOnly) throw new ArgumentException("u must be a writable float64 array");
        Span<double> cells = u.Span;
        if (cells.Length < 1) throw new ArgumentException("u must hold at least one cell");
        int left = comm.Rank > 0 ? comm.Rank - 1 : Comm.ProcNull;
        int right = comm.Rank < comm.Size - 1 ? comm.Rank + 1 : Comm.ProcNull;

        // Halos: neighbours' edge cells (boundaries keep their own value: insulated ends).
        double leftHalo = cells[0], rightHalo = cells[^1];
        Span<double> receiveLeft = [leftHalo], receiveRight = [rightHalo];
        comm.Sendrecv<double, double>(cells[..1], left, 0, receiveRight, right, 0);
        comm.Sendrecv<double, double>(cells[^1..], right, 1, receiveLeft, left, 1);
        if (left != Comm.ProcNull) leftHalo = receiveLeft[0];
        if (right != Comm.ProcNull) rightHalo = receiveRight[0];

        double maxChange = 0, previous = leftHalo;
        for (int i = 0; i < cells.Length; i++)
        {
            double next = i + 1 < cells.Length ? cells[i + 1] : rightHalo;
            double updated = cells[i] + alpha * (previous + next - 2 * cells[i]);
            previous = cells[i];
            maxChange = Math.Max(maxChange, Math.Abs(updated - cells[i]));
            cells[i] = updated;
        }
        return comm.Allreduce(maxChange, Op.Max);
    }

    /// <summary>Sum of squares of this rank's part, reduced over <paramref name="comm"/> (a dot-product kernel).</summary>
    [PythonExport]
    public static double GlobalSumOfSquares(Comm comm, PyBuffer<double> x)
    {
        double local = 0;
        foreach (double v in x.ReadOnlySpan) local += v * v;
        return comm.Allreduce(local, Op.Sum);
    }

    /// <summary>y += a·x in place (zero-copy on both arrays); the sizes must match.</summary>
    [PythonExport]
    public static void Axpy(double a, PyBuffer<double> x, PyBuffer<double> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}; they must match");
        ReadOnlySpan<double> xs = x.ReadOnlySpan;
        Span<double> ys = y.Span;
        for (int i = 0; i < ys.Length; i++) ys[i] += a * xs[i];
    }
}
