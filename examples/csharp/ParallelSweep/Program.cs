using PyMpiBridge.Examples.ParameterSweep;
using PyMpiBridge.Examples.ParallelSweep;
using PyMpiBridge.Parallel;

// Seed 003's parameter sweep (damping γ × drive frequency ω of a driven oscillator), driven from C# through a
// LoadBalancedView: the weakly damped half as C# jobs the engines run natively, the strongly damped half as numpy rows.
// Results land in one .NET array; the timing fields say how the work spread.
//   dotnet ParallelSweep.dll [engines] [dampings] [drives]        (--connect: a running './pympi cluster start')
var numbers = args.Where(a => !a.StartsWith("--")).Select(int.Parse).ToArray();
int engines = numbers.ElementAtOrDefault(0) is > 0 and var e ? e : 2;
int nDampings = numbers.ElementAtOrDefault(1) is > 1 and var nd ? nd : 8;
int nDrives = numbers.ElementAtOrDefault(2) is > 1 and var nw ? nw : 12;
double[] dampings = Linspace(0.1, 0.6, nDampings), drives = Linspace(0.5, 1.5, nDrives);
double split = (dampings[0] + dampings[^1]) / 2;                   // γ below: slow transients, C#; above: numpy

Cluster? cluster = args.Contains("--connect") ? null : await Cluster.StartAsync(engines);
try
{
    await using Client client = cluster is null ? await Client.ConnectAsync() : await cluster.ConnectAsync();
    Console.WriteLine($"{nDampings} dampings x {nDrives} drive frequencies = {nDampings * nDrives} jobs on engines {string.Join(", ", client.Ids)}");
    var view = client.LoadBalancedView();
    await client[..].SyncImportsAsync("numpy as np");

    // the C# half: one job per (γ, ω), balanced over the engines as they finish
    var slow = (from d in dampings where d < split from w in drives select (d, w)).ToList();
    var csharp = view.MapAsync(SweepKernels.Amplitude, slow.Select(j => j.d).ToArray(), slow.Select(j => j.w).ToArray());

    // the numpy half: one row of drive frequencies per task
    double[] fast = dampings.Where(d => d >= split).ToArray();
    var numpy = view.MapAsync<double[]>(PythonFunction.FromSource(SweepKernels.NumpyRow, "amplitude_row"),
        fast, fast.Select(_ => drives).ToList());

    var amplitude = new double[nDampings, nDrives];                // the gathered result, one .NET array
    int k = 0;
    await foreach (double a in csharp)                               // C# results as they arrive, in job order
    {
        var (d, w) = slow[k++];
        amplitude[Array.IndexOf(dampings, d), Array.IndexOf(drives, w)] = a;
    }
    double[][] rows = await numpy;
    for (int r = 0; r < fast.Length; r++)
        for (int j = 0; j < nDrives; j++) amplitude[Array.IndexOf(dampings, fast[r]), j] = rows[r][j];

    double worst = 0;
    for (int i = 0; i < nDampings; i++)
        for (int j = 0; j < nDrives; j++)
            worst = Math.Max(worst, Math.Abs(amplitude[i, j] / Oscillator.ExactAmplitude(dampings[i], drives[j]) - 1));
    Console.WriteLine($"all {nDampings * nDrives} amplitudes within {worst:P2} of the exact F/sqrt((w0^2-w^2)^2+(gw)^2)");
    for (int i = 0; i < nDampings; i += Math.Max(1, nDampings / 4))
    {
        int peak = Enumerable.Range(0, nDrives).MaxBy(j => amplitude[i, j]);
        Console.WriteLine($"  damping {dampings[i]:F3}: resonance at w = {drives[peak]:F3}, amplitude {amplitude[i, peak]:F3}");
    }
    Report("C# jobs", csharp);
    Report("numpy rows", numpy);
}
finally
{
    if (cluster is not null) await cluster.DisposeAsync();
}
return 0;

static void Report(string what, AsyncResult r) =>
    Console.WriteLine($"{what,-11}: {r.Progress} done in {r.TaskCount} tasks on engines {string.Join(", ", r.EngineIds.Distinct().Order())}; " +
                      $"Elapsed {r.Elapsed.TotalSeconds:F2} s, SerialTime {r.SerialTime.TotalSeconds:F2} s, WallTime {r.WallTime.TotalSeconds:F2} s");

static double[] Linspace(double from, double to, int n) =>
    Enumerable.Range(0, n).Select(i => Math.Round(from + (to - from) * i / (n - 1), 4)).ToArray();
