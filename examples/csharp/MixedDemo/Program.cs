using System.Diagnostics;
using PyMpiBridge;
using PyMpiBridge.Messaging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

// `make demo`: one MPI job, every rank a .NET process with CPython embedded, both languages on one MPI.
using var session = PyMpi.Start(args, new RankSessionOptions { PythonPaths = [AppContext.BaseDirectory] });
Comm world = session.World;
int rank = world.Rank, size = world.Size;
const int Cells = 2048, Steps = 1500;
var clock = Stopwatch.StartNew();

if (rank == 0)
{
    Console.WriteLine($"PyMpiBridge demo: {size} ranks, each a C# process with Python {session.Python!.Version} embedded, one MPI ({MpiEnvironment.Abi}).");
    Console.WriteLine(" 1. C# rank 0 builds 64 heat-diffusion cases, shuffles them and broadcasts the table as an object (BcastObject → numpy on the wire).");
    Console.WriteLine(" 2. Each rank evolves its cases with numpy on arrays owned by C#: same memory, no copy; C# reads the results in place.");
    Console.WriteLine(" 3. Python reduces the work over pympibridge.world (mpi4py) and C# over Comm.World: the same communicator.");
    Console.WriteLine(" 4. Python on the last rank sends its peaks as a numpy array; C# on rank 0 receives them into a Span<double>.");
}

// 1. The case table (alpha, amplitude, width), shuffled on rank 0 so expensive cases spread evenly.
double[,]? table = null;
if (rank == 0)
{
    var cases = (from alpha in new[] { 0.05, 0.15, 0.3, 0.45 }
                 from amplitude in new[] { 1.0, 10.0, 100.0, 1000.0 }
                 from width in new[] { 2.0, 8.0, 32.0, 128.0 }
                 select (alpha, amplitude, width)).ToArray();
    new Random(2026).Shuffle(cases);
    table = new double[cases.Length, 3];
    for (int i = 0; i < cases.Length; i++) (table[i, 0], table[i, 1], table[i, 2]) = cases[i];
}
table = (double[,])world.BcastObject(table, root: 0)!;
int count = table.GetLength(0);
int first = count * rank / size, last = count * (rank + 1) / size;

// 2. numpy evolves each case on a C# array; C# checks the result on the very same memory.
var peaks = new double[last - first];
double worstMismatch = 0;
using (Py.Gil())
{
    using var model = Py.Import("diffusion");
    for (int k = first; k < last; k++)
    {
        var u = new double[Cells];
        for (int i = 0; i < Cells; i++)
            u[i] = table[k, 1] * Math.Exp(-Math.Pow((i - Cells / 2.0) / table[k, 2], 2));
        using var shared = PyArray.From(u);                       // numpy view of u: no copy
        using var peak = model.CallMethod("evolve", shared, table[k, 0], Steps);
        double seenByCSharp = u.Max();                             // C# reads what numpy wrote, in place
        worstMismatch = Math.Max(worstMismatch, Math.Abs(seenByCSharp - peak.As<double>()));
        peaks[k - first] = seenByCSharp;
    }
}

// 3. The same reduction from both languages, over the same communicator.
long localSteps = (long)(last - first) * Steps;
long csharpTotal = world.Allreduce(localSteps, Op.Sum);
long pythonTotal;
using (Py.Gil())
{
    using var model = Py.Import("diffusion");
    using var total = model.CallMethod("total_steps", localSteps);
    pythonTotal = total.As<long>();
}
double mismatch = world.Allreduce(worstMismatch, Op.Max);

// 4. Python → C# across ranks: the last rank's Python sends its peaks with mpi4py's Send; rank 0's C# receives.
int sender = size - 1;
double[] fromPython = [];
if (rank == sender && sender != 0)
{
    using var gil = Py.Gil();
    var ns = PyObject.From(new Dictionary<string, object?> { ["peaks"] = PyArray.From(peaks) });
    Py.Exec("import numpy as np\nfrom pympibridge import world\nworld.Send(np.ascontiguousarray(peaks), dest=0, tag=7)", ns);
}
else if (rank == 0 && sender != 0)
{
    Status status = world.Probe(sender, 7);
    fromPython = new double[status.GetCount<double>()];
    world.Recv<double>(fromPython, sender, 7);
}
int[] counts = world.Gather(last - first, root: 0);
var allPeaks = new double[rank == 0 ? count : 0];
world.Gatherv<double>(peaks, allPeaks, counts, root: 0);
double seconds = world.Allreduce(clock.Elapsed.TotalSeconds, Op.Max);

if (rank == 0)
{
    Console.WriteLine();
    Console.WriteLine($" rank  cases   peak range (after {Steps} steps)");
    for (int r = 0, at = 0; r < size; at += counts[r], r++)
    {
        var mine = allPeaks.AsSpan(at, counts[r]).ToArray();
        Console.WriteLine($"  {r,3}  {counts[r],5}   {(mine.Length > 0 ? $"{mine.Min(),10:F4} .. {mine.Max(),10:F4}" : "-")}");
    }
    Console.WriteLine();
    Console.WriteLine($" shared memory: largest difference between numpy's peak and C#'s read of the same array: {mismatch:G3}");
    Console.WriteLine($" same communicator: total steps via C# Allreduce = {csharpTotal:N0}, via mpi4py allreduce = {pythonTotal:N0}");
    if (sender != 0)
        Console.WriteLine($" Python → C#: received {fromPython.Length} peaks from Python on rank {sender}, first {fromPython.FirstOrDefault():F4} (matches its row above: {fromPython.SequenceEqual(allPeaks[^counts[sender]..])})");
    Console.WriteLine($" {count} cases × {Cells} cells × {Steps} steps in {seconds:F2} s");
}
bool ok = mismatch == 0 && csharpTotal == pythonTotal && csharpTotal == (long)count * Steps;
return world.Allreduce(ok ? 0 : 1, Op.Max);
