using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// Pins the per-ABI constants. The MPICH values were printed by a C program built with mpicc.mpich
/// (MPICH 4.0.2); Open MPI's handles are exported symbols, checked to resolve in libmpi.so.40.
/// </summary>
public class AbiTableTests
{
    private static readonly MpiAbiTable Mpich = MpichAbi.Create();

    [Test]
    public void Mpich_PredefinedHandles_MatchMpiH()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Mpich.CommWorld, Is.EqualTo((nint)0x44000000));
            Assert.That(Mpich.CommSelf, Is.EqualTo((nint)0x44000001));
            Assert.That(Mpich.CommNull, Is.EqualTo((nint)0x04000000));
            Assert.That(Mpich.Datatype(PrimitiveDatatype.Double), Is.EqualTo((nint)0x4c00080b));
            Assert.That(Mpich.Datatype(PrimitiveDatatype.Int), Is.EqualTo((nint)0x4c000405));
            Assert.That(Mpich.Datatype(PrimitiveDatatype.CBool), Is.EqualTo((nint)0x4c00013f));
            Assert.That(Mpich.Datatype(PrimitiveDatatype.CDoubleComplex), Is.EqualTo((nint)0x4c001041));
            Assert.That(Mpich.Op(PredefinedOp.Sum), Is.EqualTo((nint)0x58000003));
            Assert.That(Mpich.Op(PredefinedOp.Max), Is.EqualTo((nint)0x58000001));
            Assert.That(Mpich.Op(PredefinedOp.Bxor), Is.EqualTo((nint)0x5800000a));
            Assert.That(Mpich.ErrorsReturn, Is.EqualTo((nint)0x54000001));
            Assert.That(Mpich.RequestNull, Is.EqualTo((nint)0x2c000000));
            Assert.That(Mpich.GroupEmpty, Is.EqualTo((nint)0x48000000));
        });
    }

    [Test]
    public void Mpich_HandlesAreZeroExtended_NotSignExtended()
    {
        // 0x84000000-style handles of created communicators have the top bit set; ours must stay positive.
        Assert.That(Mpich.Datatypes.Concat(Mpich.Ops).Append(Mpich.CommWorld), Is.All.GreaterThan((nint)0).And.All.LessThanOrEqualTo(unchecked((nint)uint.MaxValue)));
    }

    [Test]
    public void Mpich_SentinelsAndSpecialRanks_MatchMpiH()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Mpich.InPlace, Is.EqualTo((nint)(-1)));
            Assert.That(Mpich.StatusIgnore, Is.EqualTo((nint)1));
            Assert.That(Mpich.AnySource, Is.EqualTo(-2));
            Assert.That(Mpich.ProcNull, Is.EqualTo(-1));
            Assert.That(Mpich.AnyTag, Is.EqualTo(-1));
            Assert.That(Mpich.Undefined, Is.EqualTo(-32766));
            Assert.That(Mpich.StatusSize, Is.EqualTo(20));
            Assert.That(Mpich.HandleSize, Is.EqualTo(4));
        });
    }

    [Test]
    public void Mpich_ErrorClasses_UseMpichNumbering()
    {
        Assert.That(Mpich.MapErrorClass(14), Is.EqualTo(MpiErrorClass.Truncate));
        Assert.That(Mpich.MapErrorClass(19), Is.EqualTo(MpiErrorClass.Request));
        Assert.That(Mpich.MapErrorClass(17), Is.EqualTo(MpiErrorClass.InStatus));
        Assert.That(Mpich.MapErrorClass(9999), Is.EqualTo(MpiErrorClass.Other));
    }

    [Test]
    public void OpenMpi_EverySymbolResolvesInLibmpi()
    {
        nint lib = Libdl.OpenGlobal("libmpi.so.40", out string? error);
        Assert.That(lib, Is.Not.EqualTo((nint)0), $"libmpi.so.40 did not load: {error}");
        var names = OpenMpiAbi.DatatypeSymbols.Concat(OpenMpiAbi.OpSymbols).Concat(OpenMpiAbi.OtherSymbols).ToList();
        Assert.That(names.Where(n => Libdl.Symbol(lib, n) == 0), Is.Empty);
        Assert.That(names, Has.Count.EqualTo(Enum.GetValues<PrimitiveDatatype>().Length + Enum.GetValues<PredefinedOp>().Length + 9));
    }

    [Test]
    public void OpenMpi_Table_HasAddressesAndOpenMpiConstants()
    {
        nint lib = Libdl.OpenGlobal("libmpi.so.40", out _);
        var table = OpenMpiAbi.Create(lib, "libmpi.so.40");
        Assert.Multiple(() =>
        {
            Assert.That(table.CommWorld, Is.EqualTo(Libdl.Symbol(lib, "ompi_mpi_comm_world")));
            Assert.That(table.Datatypes.Distinct().Count(), Is.EqualTo(table.Datatypes.Length));
            Assert.That(table.InPlace, Is.EqualTo((nint)1));
            Assert.That(table.StatusIgnore, Is.EqualTo((nint)0));
            Assert.That(table.AnySource, Is.EqualTo(-1));
            Assert.That(table.ProcNull, Is.EqualTo(-2));
            Assert.That(table.StatusSize, Is.EqualTo(24));
            Assert.That(table.HandleSize, Is.EqualTo(8));
            Assert.That(table.MapErrorClass(15), Is.EqualTo(MpiErrorClass.Truncate));
            Assert.That(table.MapErrorClass(7), Is.EqualTo(MpiErrorClass.Request));
        });
    }

    [Test]
    public void PublicConstants_AreTheSameForBothAbis()
    {
        // Users write Comm.AnySource etc.; the binding maps them per ABI.
        Assert.That(Comm.AnySource, Is.EqualTo(-1));
        Assert.That(Comm.ProcNull, Is.EqualTo(-2));
        Assert.That(Comm.AnyTag, Is.EqualTo(-1));
        Assert.That(MpiEnvironment.Undefined, Is.EqualTo(Mpich.Undefined));
    }
}
