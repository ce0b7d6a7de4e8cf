using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// One rank fails where the program (or a Python <c>try</c> around a C# kernel) catches it, while the other ranks
/// wait for it: the job must end with the reason, never hang. Rank 1 is the failing rank in each.
/// </summary>
internal static class JobFailureScenarios
{
    public static void Register(ScenarioRegistry add)
    {
        add("failure-session-disposed-by-exception", SessionDisposedByException, initializeMpi: false);
        add("failure-async-main", c => AsyncMain(c).GetAwaiter().GetResult(), initializeMpi: false);
        add("failure-root-only-check", RootOnlyCheck);
        add("failure-user-op-on-one-rank", UserOpOnOneRank);
    }

    /// <summary><c>using var rank = PyMpi.Start()</c> left by an exception that an outer handler catches.</summary>
    private static void SessionDisposedByException(ScenarioContext c)
    {
        try
        {
            using var session = PyMpi.Start([], new RankSessionOptions { StartPython = false });
            if (session.Rank == 1) throw new InvalidDataException("kernel failed on rank 1");
            session.World.Barrier(); // rank 0 waits here for rank 1
        }
        catch (InvalidDataException e)
        {
            ScenarioContext.WriteLine($"rank 1: caught {e.Message}");
        }
        ScenarioContext.WriteLine("rank ?: program returned normally");
    }

    /// <summary>An <c>async Main</c> holding <c>using var rank</c> that throws after an await.</summary>
    private static async Task AsyncMain(ScenarioContext c)
    {
        try
        {
            using var rank = PyMpi.Start([], new RankSessionOptions { StartPython = false });
            await Task.Yield();
            if (rank.Rank == 1) throw new InvalidDataException("async kernel failed on rank 1");
            rank.World.Barrier();
        }
        catch (InvalidDataException e)
        {
            ScenarioContext.WriteLine($"rank 1: caught {e.Message}");
        }
    }

    /// <summary>Root's send buffer is too short for Scatter; root catches the error, the others are in Scatter.</summary>
    private static void RootOnlyCheck(ScenarioContext c)
    {
        int root = 1 % c.Size;
        var receive = new int[4];
        try
        {
            c.World.Scatter<int>(c.Rank == root ? new int[3] : [], receive, root);
        }
        catch (ArgumentException e)
        {
            ScenarioContext.WriteLine($"rank {c.Rank}: caught {e.Message}");
        }
        c.World.Barrier();
        c.Check("after scatter", false, "the job went on past a collective that could not start on the root");
    }

    /// <summary>The user function throws on rank 1 only; every rank catches what it gets.</summary>
    private static void UserOpOnOneRank(ScenarioContext c)
    {
        int rank = c.Rank;
        using var op = Op.Create<int>((input, inout) =>
        {
            if (rank == 1) throw new InvalidDataException("boom in reduce on rank 1");
            for (int i = 0; i < input.Length; i++) inout[i] += input[i];
        });
        try
        {
            int sum = c.World.Allreduce(rank, op);
            ScenarioContext.WriteLine($"rank {rank}: allreduce returned {sum}");
        }
        catch (InvalidOperationException e)
        {
            ScenarioContext.WriteLine($"rank {rank}: caught {e.Message}");
        }
        c.World.Barrier();
        c.Check("after user op", false, "the ranks went on with different outcomes of one reduction");
    }
}
