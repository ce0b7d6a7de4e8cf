using PyMpiBridge;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

// Seed 000 had a numba-compiled local sum and an mpi4py reduction, driven from an IPython view.
// Here C# drives: each rank builds its slice of x = 0, 1, ..., N-1 in C#, hands it to the numba function
// without copying, and checks the answer against its own MPI reduction and the closed form.
//   mpiexec -n 4 dotnet NumbaVectorSum.dll [N]
using var session = PyMpi.Start(args, new RankSessionOptions { PythonPaths = [AppContext.BaseDirectory] });
Comm world = session.World;
long n = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;

using (Py.Gil())
{
    try { Py.Import("numba").Dispose(); }
    catch (PythonException e) when (e.PythonTypeName == "ModuleNotFoundError")
    {
        if (world.Rank == 0)
            Console.WriteLine("numba is not installed in this Python: skipping the numba vector sum (install it: apt-get install python3-numba).");
        return 0;
    }
}

long first = n * world.Rank / world.Size, last = n * (world.Rank + 1) / world.Size;
var x = new double[last - first];
for (long i = first; i < last; i++) x[i - first] = i;

double viaNumba;
using (Py.Gil())
{
    using var vecsum = Py.Import("vecsum");
    using var shared = PyArray.From(x);
    using var result = vecsum.CallMethod("psum", shared);
    viaNumba = result.As<double>();
}
double local = 0;
foreach (double v in x) local += v;
double viaCSharp = world.Allreduce(local, Op.Sum);
double exact = (double)n * (n - 1) / 2;

if (world.Rank == 0)
{
    Console.WriteLine($"sum of 0..{n - 1} over {world.Size} ranks");
    Console.WriteLine($"  numba local sums + mpi4py allreduce: {viaNumba:R}");
    Console.WriteLine($"  C# local sums + C# Allreduce:        {viaCSharp:R}");
    Console.WriteLine($"  closed form n(n-1)/2:                {exact:R}");
}
return viaNumba == viaCSharp && viaNumba == exact ? 0 : 1;
