using System.Diagnostics;
using PyMpiBridge.Launching;

namespace PyMpiBridge.Benchmarks;

/// <summary>
/// Builds a native C benchmark with Open MPI's <c>mpicc</c> on demand: only when the executable is
/// missing or older than its source, so the baseline always matches the checked-in source.
/// </summary>
internal static class NativeBenchBuild
{
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Returns <paramref name="output"/>, compiling <paramref name="source"/> into it first if needed.</summary>
    public static async Task<string> EnsureBuiltAsync(string source, string output)
    {
        if (!File.Exists(source))
            throw new FileNotFoundException($"benchmark source {source} is missing; is the checkout complete?", source);
        if (File.Exists(output) && File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(source))
            return output;

        // mpicc.openmpi first: the job is launched with Open MPI's mpiexec, and `mpicc` may be MPICH's
        // when both are installed and the alternatives point there.
        string mpicc = MpiLauncher.FindOnPath("mpicc.openmpi") ?? MpiLauncher.FindOnPath("mpicc")
            ?? throw new FileNotFoundException(
                "mpicc (Open MPI's C compiler wrapper) was not found on PATH; the native baseline cannot be built. " +
                "Install it: apt-get install libopenmpi-dev");

        Console.WriteLine($"building {Path.GetFileName(output)} with {mpicc} (source is newer or no build yet)");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        // Compile to a temporary name and rename, so an interrupted build never looks up to date.
        string temp = output + ".tmp";
        var psi = new ProcessStartInfo(mpicc) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-O2", "-Wall", "-o", temp, source }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(CompileTimeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{mpicc} did not finish compiling {source} within {CompileTimeout.TotalSeconds:F0} s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{mpicc} failed to compile {source} (exit {process.ExitCode}):\n{await stdout}{await stderr}");
        File.Move(temp, output, overwrite: true);
        return output;
    }
}
