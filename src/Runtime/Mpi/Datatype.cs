using System.Numerics;
using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// The MPI datatype handle for element type <typeparamref name="T"/>, looked up once per T and
/// cached in a static generic field, so hot calls pay one load and a zero test.
/// </summary>
internal static class Datatype<T> where T : unmanaged
{
    private static nint s_handle;

    public static nint Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            nint h = s_handle;
            return h != 0 ? h : Resolve();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Resolve()
    {
        PrimitiveDatatype kind = Datatypes.PrimitiveOf(typeof(T)) ?? throw Datatypes.Unsupported(typeof(T));
        nint handle = MpiLibrary.Abi.Datatype(kind);
        s_handle = handle;
        return handle;
    }
}

/// <summary>Which .NET element types map to which MPI datatype (the same choices mpi4py makes for numpy dtypes).</summary>
internal static class Datatypes
{
    private static readonly Dictionary<Type, PrimitiveDatatype> s_map = new()
    {
        [typeof(sbyte)] = PrimitiveDatatype.SignedChar,
        [typeof(byte)] = PrimitiveDatatype.UnsignedChar,
        [typeof(short)] = PrimitiveDatatype.Short,
        [typeof(ushort)] = PrimitiveDatatype.UnsignedShort,
        [typeof(int)] = PrimitiveDatatype.Int,
        [typeof(uint)] = PrimitiveDatatype.Unsigned,
        [typeof(long)] = PrimitiveDatatype.Long,           // LP64: C long is 64-bit
        [typeof(ulong)] = PrimitiveDatatype.UnsignedLong,
        [typeof(nint)] = PrimitiveDatatype.Long,
        [typeof(nuint)] = PrimitiveDatatype.UnsignedLong,
        [typeof(float)] = PrimitiveDatatype.Float,
        [typeof(double)] = PrimitiveDatatype.Double,
        [typeof(bool)] = PrimitiveDatatype.CBool,          // 1 byte, like C _Bool
        [typeof(char)] = PrimitiveDatatype.UnsignedShort,  // UTF-16 code unit
        [typeof(Complex)] = PrimitiveDatatype.CDoubleComplex,
    };

    /// <summary>Element types Send/Recv/collectives accept.</summary>
    public static IReadOnlyCollection<Type> Supported => s_map.Keys;

    public static PrimitiveDatatype? PrimitiveOf(Type type) => s_map.TryGetValue(type, out var kind) ? kind : null;

    public static NotSupportedException Unsupported(Type type) => new(
        $"Element type {type.FullName} has no MPI datatype mapping. Supported: " +
        string.Join(", ", s_map.Keys.Select(t => t.Name)) +
        ". To move a struct's raw bytes, send MemoryMarshal.AsBytes(span) and receive into a byte span.");
}
