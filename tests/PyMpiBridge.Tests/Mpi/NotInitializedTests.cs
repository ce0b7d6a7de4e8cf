using PyMpiBridge.Mpi;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// In the test host MPI is never initialized (a process can initialize MPI once only, and these checks need a
/// process where it is not): using MPI before Init gives a clear InvalidOperationException.
/// </summary>
public class NotInitializedTests
{
    [Test]
    public void World_BeforeInit_ThrowsTellingToCallInit()
    {
        Assert.That(MpiEnvironment.IsInitialized, Is.False, "nothing in the test host may initialize MPI");
        var e = Assert.Throws<InvalidOperationException>(() => _ = Comm.World);
        Assert.That(e!.Message, Does.Contain("MpiEnvironment.Init()"));
        Assert.Throws<InvalidOperationException>(() => _ = Comm.Self);
    }

    [Test]
    public void OpCreate_BeforeInit_Throws()
    {
        Assert.That(MpiEnvironment.IsInitialized, Is.False, "nothing in the test host may initialize MPI");
        Assert.Throws<InvalidOperationException>(() => Op.Create<int>((a, b) => { }));
    }

    [Test]
    public void Finalize_BeforeInit_DoesNothing()
    {
        MpiEnvironment.Finalize();
        Assert.That(MpiEnvironment.IsFinalized, Is.False);
    }

    [Test]
    public void PredefinedOps_AreNamedSingletons()
    {
        Assert.That(new[] { Op.Sum, Op.Max, Op.Bxor }.Select(op => op.Name), Is.EqualTo(new[] { "Sum", "Max", "Bxor" }));
        Assert.That(Op.Sum, Is.Not.SameAs(Op.Max));
        Assert.That(Op.Sum.IsPredefined && Op.Max.IsCommutative, Is.True);
        Op.Sum.Dispose(); // no effect on predefined ops
        Assert.That(Op.Sum.IsPredefined, Is.True);
    }
}
