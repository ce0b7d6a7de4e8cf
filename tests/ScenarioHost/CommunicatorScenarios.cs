using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Dup, Split, Create, Compare, groups, Fortran handles, Free.</summary>
public static class CommunicatorScenarios
{
    public static void Register(ScenarioRegistry add) => add("communicators", Run);

    private static void Run(ScenarioContext ctx)
    {
        var w = ctx.World;
        int size = w.Size, rank = ctx.Rank;

        ctx.Run("dup", () =>
        {
            using var dup = w.Dup();
            int sum = dup.Allreduce(1, Op.Sum);
            return (dup.Rank == rank && dup.Size == size && sum == size && w.Compare(dup) == CommComparison.Congruent
                && w.Compare(w) == CommComparison.Identical && dup.HandleValue != w.HandleValue, $"{w.Compare(dup)}");
        });

        ctx.Run("split", () =>
        {
            using var half = w.Split(rank % 2, key: -rank)!; // key reverses the order inside each half
            int members = (size - rank % 2 + 1) / 2;
            int sum = half.Allreduce(rank, Op.Sum);
            int expectedSum = Enumerable.Range(0, size).Where(r => r % 2 == rank % 2).Sum();
            int expectedRank = Enumerable.Range(0, size).Where(r => r % 2 == rank % 2).Count(r => r > rank);
            return (half.Size == members && half.Rank == expectedRank && sum == expectedSum, $"size {half.Size} rank {half.Rank}");
        });

        ctx.Run("split undefined", () =>
        {
            using var some = w.Split(rank == 0 ? MpiEnvironment.Undefined : 1);
            bool ok = rank == 0 ? some is null : some is not null && some.Size == size - 1 && some.Rank == rank - 1;
            return (ok, some is null ? "null" : $"size {some.Size}");
        });

        ctx.Run("group create", () =>
        {
            using var all = w.GetGroup();
            int[] firstHalf = Enumerable.Range(0, (size + 1) / 2).ToArray();
            using var group = all.Incl(firstHalf);
            using var rest = all.Excl(firstHalf);
            using var sub = w.Create(group);
            int[] translated = group.TranslateRanks(Enumerable.Range(0, group.Size).ToArray(), all);
            int[] back = all.TranslateRanks([size - 1], group);
            bool member = rank < firstHalf.Length;
            bool ok = all.Size == size && all.Rank == rank && group.Size == firstHalf.Length && rest.Size == size - firstHalf.Length
                && translated.SequenceEqual(firstHalf)
                && back[0] == (size - 1 < firstHalf.Length ? size - 1 : MpiEnvironment.Undefined)
                && (member ? sub is not null && sub.Size == group.Size && sub.Rank == rank && group.Rank == rank
                           : sub is null && group.Rank == MpiEnvironment.Undefined);
            if (sub is not null) ok &= sub.Allreduce(1, Op.Sum) == group.Size;
            return (ok, member ? $"member of {group.Size}" : "not a member");
        });

        ctx.Run("fortran handle", () =>
        {
            int f = w.ToFortran();
            var again = Comm.FromFortran(f);
            using var dup = w.Dup();
            var borrowed = Comm.FromFortran(dup.ToFortran());
            bool ok = ReferenceEquals(again, w) && borrowed.HandleValue == dup.HandleValue && borrowed.Compare(dup) == CommComparison.Identical
                && borrowed.Rank == rank && borrowed.Size == size;
            borrowed.Dispose(); // borrowed: must not free dup's handle
            ok &= dup.Allreduce(1, Op.Sum) == size;
            return (ok, $"world f2c {f}");
        });

        ctx.Run("world handle", () =>
        {
            // Open MPI: the address of ompi_mpi_comm_world; MPICH: 0x44000000.
            nint h = w.HandleValue;
            bool ok = MpiEnvironment.Abi == MpiAbi.Mpich ? h == 0x44000000 : h > 0x10000;
            return (ok, $"{MpiEnvironment.Abi} 0x{h:x}");
        });

        ctx.Run("free", () =>
        {
            var dup = w.Dup();
            dup.Free();
            dup.Dispose(); // twice is fine
            w.Dispose();   // predefined: no effect
            bool threw = false;
            try { dup.Barrier(); } catch (ObjectDisposedException) { threw = true; }
            w.Barrier();
            return (threw && dup.IsDisposed && !w.IsDisposed, "");
        });
    }
}
