using PyMpiBridge.Parallel;

// C# drives ipyparallel-style MPI engines, with no Python in this process: start a cluster (a controller and N
// engines, each an MPI rank hosted by PyMpiBridge), scatter a .NET array, run a numpy function on every engine, gather.
//   dotnet ParallelClient.dll [engines] [N]        (or connect to a running './pympi cluster start' with --connect)
int engines = args.Length > 0 && int.TryParse(args[0], out int e) ? e : 2;
int n = args.Length > 1 ? int.Parse(args[1]) : 1_000_000;
bool connect = args.Contains("--connect");

Cluster? cluster = connect ? null : await Cluster.StartAsync(engines);
try
{
    await using Client client = cluster is null ? await Client.ConnectAsync() : await cluster.ConnectAsync();
    Console.WriteLine($"engines: {string.Join(", ", client.Ids)}");
    var view = client[..];

    double[] x = Enumerable.Range(0, n).Select(i => i / (double)n).ToArray();
    await view.ScatterAsync("x", x);                                   // each engine gets a numpy slice of x

    const string kernel = """
        import numpy as np
        from mpi4py import MPI

        def smooth(width):
            global y
            y = np.convolve(np.sin(np.pi * x) ** 2, np.ones(width) / width, mode="same")
            local = np.array([y.sum()])
            total = np.zeros(1)
            MPI.COMM_WORLD.Allreduce(local, total)             # the engines are one MPI job
            return float(total[0])
        """;
    var ar = view.ApplyAsync<double>(kernel, "smooth", 5);
    double[] totals = await ar;
    double[] y = await view.GatherAsync<double>("y");                  // numpy arrays back as one double[]

    Console.WriteLine($"smoothed {y.Length:N0} values on {client.Ids.Count} engines; sum via MPI Allreduce = {totals[0]:F6}, " +
                      $"via C# = {y.Sum():F6} (agree: {Math.Abs(totals[0] - y.Sum()) < 1e-6 * n})");
    Console.WriteLine($"elapsed {ar.Elapsed.TotalMilliseconds:F1} ms, serial time {ar.SerialTime.TotalMilliseconds:F1} ms, " +
                      $"wall time {ar.WallTime.TotalMilliseconds:F1} ms");

    try { await view.ExecuteAsync("1 / 0"); }
    catch (CompositeException errors)
    {
        foreach (RemoteException r in errors.InnerExceptions.Cast<RemoteException>())
            Console.WriteLine($"engine {r.EngineId} raised {r.PythonType}: {r.PythonMessage}");
    }
}
finally
{
    if (cluster is not null) await cluster.DisposeAsync();                    // controller and engines stop
}
return 0;
