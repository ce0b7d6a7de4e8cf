using PyMpiBridge.Launching;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// Every test that waits on a child process goes through here: a child still running at its timeout fails the test
/// (with its output), instead of handing the test a killed job whose non-zero exit code could look like the expected
/// failure.
/// </summary>
public static class InTime
{
    public static async Task<MpiJobResult> Job(Task<MpiJobResult> running)
    {
        var job = await running;
        if (job.TimedOut)
            Assert.Fail($"the child process did not end in time (killed after {job.Elapsed.TotalSeconds:F0} s)\n--- stdout ---\n{job.Stdout}\n--- stderr ---\n{job.Stderr}");
        return job;
    }

    /// <summary>Waits for <paramref name="process"/> up to <paramref name="timeout"/>; kills it and fails the test when it is still running.</summary>
    public static async Task Exit(System.Diagnostics.Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{process.StartInfo.FileName} {string.Join(' ', process.StartInfo.ArgumentList)} did not end within {timeout.TotalSeconds:F0} s (killed)");
        }
    }
}
