using System.Numerics;
using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>Element type → MPI datatype: every supported type maps to a datatype of the same size.</summary>
public class DatatypeTests
{
    private static readonly MpiAbiTable Mpich = MpichAbi.Create();

    private static readonly (Type Type, int Size)[] Supported =
    [
        (typeof(sbyte), 1), (typeof(byte), 1), (typeof(short), 2), (typeof(ushort), 2), (typeof(int), 4), (typeof(uint), 4),
        (typeof(long), 8), (typeof(ulong), 8), (typeof(float), 4), (typeof(double), 8), (typeof(bool), 1),
        (typeof(char), 2), (typeof(Complex), 16), (typeof(nint), 8), (typeof(nuint), 8),
    ];

    [Test]
    public void EverySupportedType_MapsToMpiDatatypeOfSameSize()
    {
        // MPICH encodes a builtin datatype's size in bits 8..15 of its handle (MPI_INT = 0x4c000405 → 4 bytes).
        foreach (var (type, size) in Supported)
        {
            var kind = Datatypes.PrimitiveOf(type);
            Assert.That(kind, Is.Not.Null, type.Name);
            int encodedSize = (int)((Mpich.Datatype(kind!.Value) >> 8) & 0xff);
            Assert.That(encodedSize, Is.EqualTo(size), $"{type.Name} → {kind}");
        }
        Assert.That(Unsafe.SizeOf<Complex>(), Is.EqualTo(16));
    }

    [Test]
    public void SignedAndUnsigned_MapToDistinctDatatypes()
    {
        Assert.That(Datatypes.PrimitiveOf(typeof(int)), Is.Not.EqualTo(Datatypes.PrimitiveOf(typeof(uint))));
        Assert.That(Datatypes.PrimitiveOf(typeof(sbyte)), Is.EqualTo(PrimitiveDatatype.SignedChar));
        Assert.That(Datatypes.PrimitiveOf(typeof(bool)), Is.EqualTo(PrimitiveDatatype.CBool));
        Assert.That(Datatypes.PrimitiveOf(typeof(Complex)), Is.EqualTo(PrimitiveDatatype.CDoubleComplex));
    }

    [Test]
    public void UnsupportedType_ThrowsNotSupportedNamingTypeAndWorkaround()
    {
        var e = Assert.Throws<NotSupportedException>(() => _ = Datatype<decimal>.Handle);
        Assert.That(e!.Message, Does.Contain("System.Decimal").And.Contain("MemoryMarshal.AsBytes").And.Contain("Double"));
        Assert.Throws<NotSupportedException>(() => _ = Datatype<Int128>.Handle);
    }
}
