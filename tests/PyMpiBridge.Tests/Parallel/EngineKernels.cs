using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>C# methods the parallel tests run on engines (the engines load this test assembly from its path).</summary>
public static class EngineKernels
{
    public static double Square(double x) => x * x;

    public static long Scale(long x, double factor) => (long)Math.Round(x * factor);

    public static string Label(string name, int count) => $"{name}:{count}";

    /// <summary>The engines' MPI rank: the world a C# method gets is the engines' own.</summary>
    public static int Rank(Comm world) => world.Rank;

    /// <summary>Sums a numpy array pushed earlier (seen without copying) over every engine with MPI.</summary>
    public static double SumOnAllEngines(Comm world, PyBuffer<double> values)
    {
        double local = 0;
        foreach (double v in values.ReadOnlySpan) local += v;
        return world.Allreduce(local, Op.Sum);
    }

    /// <summary>Scales a pushed array in place (the engine's numpy array changes) and returns a scaled copy.</summary>
    public static double[] ScaleInPlace(PyBuffer<double> values, double factor)
    {
        var span = values.Span;
        for (int i = 0; i < span.Length; i++) span[i] *= factor;
        return span.ToArray();
    }

    public static double Refuse(double x) => throw new InvalidOperationException($"the kernel refuses {x}");
}
