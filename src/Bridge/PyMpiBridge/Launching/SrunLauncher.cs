using System.Diagnostics;
using System.Globalization;

namespace PyMpiBridge.Launching;

/// <summary>Which program starts the ranks of <c>pympi run</c>.</summary>
public enum RankLauncher
{
    /// <summary>The MPI's own <c>mpiexec</c> (inside a Slurm allocation Open MPI's reads it, and hydra starts its proxies with srun).</summary>
    Mpiexec,
    /// <summary>Slurm's <c>srun</c>, wiring the ranks up itself: <c>--mpi=pmix</c> for Open MPI, <c>--mpi=pmi2</c> for MPICH.</summary>
    Srun,
}

/// <summary>
/// Starts ranks with Slurm's <c>srun</c> (direct launch): inside an allocation a job step of its tasks, outside one a job of
/// its own. The MPI plugin is the one each library speaks here (verified with Slurm 22.05: Open MPI 4.1 joins under
/// <c>pmix</c> and aborts under <c>pmi2</c>; MPICH 4.0 joins under <c>pmi2</c> and runs singletons under <c>pmix</c>).
/// </summary>
public static class SrunLauncher
{
    /// <summary>The <c>srun --mpi</c> plugin whose protocol <paramref name="flavor"/>'s library speaks.</summary>
    public static string MpiPlugin(MpiFlavor flavor) => flavor == MpiFlavor.OpenMpi ? "pmix" : "pmi2";

    /// <summary>
    /// Builds the start info for <c>srun --ntasks=N --mpi=PLUGIN --kill-on-bad-exit=1 [extra] program args...</c>: a rank
    /// that fails ends the step, as MPI_Abort ends an mpiexec job.
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(
        int ranks, string program, IEnumerable<string> arguments, MpiFlavor flavor = MpiFlavor.OpenMpi,
        IEnumerable<string>? extraSrunArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        string srun = MpiLauncher.FindOnPath("srun") ?? throw new FileNotFoundException(
            "Slurm's srun was not found on PATH: run where Slurm is installed (a login or compute node), or use --launcher mpiexec.");
        var psi = MpiLauncher.Redirected(srun);
        foreach (string a in (string[])[$"--ntasks={ranks.ToString(CultureInfo.InvariantCulture)}", $"--mpi={MpiPlugin(flavor)}", "--kill-on-bad-exit=1"])
            psi.ArgumentList.Add(a);
        foreach (string a in extraSrunArgs ?? []) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(program);
        foreach (string a in arguments) psi.ArgumentList.Add(a);

        MpiLauncher.ApplyEnvironment(psi.Environment, flavor);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }
}
