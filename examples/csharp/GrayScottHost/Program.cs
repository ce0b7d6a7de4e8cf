using Microsoft.Extensions.Logging;
using PyMpiBridge;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

// A C# simulation that calls Python science code on its own arrays every iteration, without copying:
// scipy computes the Laplacians into C#-owned double[,] buffers, C# does the reaction update in place.
// Each rank runs one (feed, kill) point of a parameter scan; ranks compare statistics with Allreduce.
//   mpiexec -n 4 dotnet GrayScottHost.dll [size] [iterations]
using var session = PyMpi.Start(args, new RankSessionOptions { PythonPaths = [AppContext.BaseDirectory], LogLevel = LogLevel.Information });
Comm world = session.World;
int n = args.Length > 0 ? int.Parse(args[0]) : 96;
int iterations = args.Length > 1 ? int.Parse(args[1]) : 2000;
const double Du = 0.16, Dv = 0.08;
double feed = 0.030 + 0.004 * world.Rank, kill = 0.060;

var u = new double[n, n];
var v = new double[n, n];
var lu = new double[n, n];
var lv = new double[n, n];
for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
    {
        bool seed = Math.Abs(i - n / 2) < n / 10 && Math.Abs(j - n / 2) < n / 10;
        u[i, j] = seed ? 0.50 : 1.0;
        v[i, j] = seed ? 0.25 : 0.0;
    }

string backend;
using (Py.Gil())
{
    using var model = Py.Import("grayscott");
    using var name = model.CallMethod("backend");
    backend = name.As<string>();
    // The numpy views are made once: they stay valid (and the arrays pinned) while we hold them.
    using var pu = PyArray.From(u);
    using var pv = PyArray.From(v);
    using var plu = PyArray.From(lu);
    using var plv = PyArray.From(lv);
    using var laplacian = model.GetAttr("laplacian");
    for (int step = 1; step <= iterations; step++)
    {
        using (laplacian.Call(pu, plu)) { }   // Python writes into lu: no copy either way
        using (laplacian.Call(pv, plv)) { }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double uvv = u[i, j] * v[i, j] * v[i, j];
                u[i, j] += Du * lu[i, j] - uvv + feed * (1 - u[i, j]);
                v[i, j] += Dv * lv[i, j] + uvv - (feed + kill) * v[i, j];
            }
        if (step % (iterations / 4) == 0)
        {
            // Release the GIL while every rank waits in the collective: other Python threads may run.
            double meanV = 0;
            foreach (double x in v) meanV += x;
            meanV /= n * n;
            double globalMax = world.Allreduce(meanV, Op.Max);
            session.Logger.LogInformation("step {Step}/{Total}: mean V {Mean:F5} (largest over ranks {Max:F5})", step, iterations, meanV, globalMax);
        }
    }
}

double sumV = 0;
foreach (double x in v) sumV += x;
double[] means = world.Gather(sumV / (n * n), root: 0);
if (world.Rank == 0)
{
    Console.WriteLine($"Gray-Scott {n}x{n}, {iterations} iterations, Laplacian by {backend} on C# arrays, reaction in C#");
    for (int r = 0; r < means.Length; r++)
        Console.WriteLine($"  rank {r}: feed {0.030 + 0.004 * r:F3} kill {kill:F3}  mean V {means[r]:F5}");
}
bool finite = !double.IsNaN(sumV) && !double.IsInfinity(sumV);
return world.Allreduce(finite ? 0 : 1, Op.Max);
