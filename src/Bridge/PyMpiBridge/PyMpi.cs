namespace PyMpiBridge;

/// <summary>
/// Entry point of a mixed C#/Python rank:
/// <code>
/// using var rank = PyMpi.Start(args);
/// using (Py.Gil()) { dynamic np = Py.Import("numpy"); ... }
/// rank.World.Allreduce(local, global, Op.Sum);
/// </code>
/// </summary>
public static class PyMpi
{
    /// <summary>
    /// Brings up MPI, then Python, in this rank, configured so both languages share one MPI: mpi4py neither
    /// initializes nor finalizes it, and sees the same communicators. Dispose the session to shut down in the right
    /// order (Python first, MPI last, only what we started).
    /// </summary>
    /// <param name="args">The program's arguments (kept for <see cref="RankSession.Arguments"/>).</param>
    /// <param name="options">How to start; defaults suit most jobs.</param>
    public static RankSession Start(string[]? args = null, RankSessionOptions? options = null)
        => RankSession.Start(args ?? [], options ?? new RankSessionOptions());
}
