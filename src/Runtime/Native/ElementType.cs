using System.Numerics;

namespace PyMpiBridge;

/// <summary>
/// The MPI datatypes element types map to, named independently of an ABI. Each ABI table of the MPI binding
/// (<c>MpiAbiTable.Datatypes</c>: Open MPI symbols, MPICH constants) lists their handles in this order.
/// </summary>
internal enum PrimitiveDatatype { SignedChar, UnsignedChar, Short, UnsignedShort, Int, Unsigned, Long, UnsignedLong, Float, Double, CBool, CDoubleComplex, Byte, CFloatComplex }

/// <summary>
/// THE table of element types: every path that moves raw elements reads it — MPI messages and collectives
/// (<see cref="Mpi"/>, resolved per ABI by the MPI binding), numpy sharing and the buffer protocol (<see cref="Format"/>,
/// <see cref="DTypeName"/>, <see cref="Kind"/> + <see cref="Size"/>), and object messages (numeric arrays travel as
/// numpy arrays of <see cref="DTypeName"/> when <see cref="Canonical"/>, and numpy arrays come back as arrays of the
/// canonical type of their kind and size). It lives in PyMpiBridge.Native because the MPI binding and the CPython
/// embedding both need it and must not depend on each other.
/// </summary>
/// <param name="Type">The .NET element type.</param>
/// <param name="Size">Bytes per element (the same in .NET, MPI and numpy).</param>
/// <param name="Mpi">The MPI datatype moving it.</param>
/// <param name="MpiArithmetic">Whether MPI's predefined reduction operations compute on it (false for Half: MPI has no
/// 16-bit float in every ABI, so it moves as 16-bit words and reduces only with a user-defined <c>Op</c>).</param>
/// <param name="Kind">numpy's kind: i, u, f, c, b.</param>
/// <param name="Format">Buffer-protocol format written when .NET memory is shown to numpy (PEP 3118).</param>
/// <param name="DTypeName">numpy's dtype name.</param>
/// <param name="Canonical">The type a numpy array of this kind and size arrives as (char, nint and nuint share
/// their numpy dtype with ushort, long and ulong, which are canonical).</param>
internal sealed record ElementType(Type Type, int Size, PrimitiveDatatype Mpi, bool MpiArithmetic, char Kind, string Format, string DTypeName, bool Canonical)
{
    public static readonly ElementType[] All =
    [
        new(typeof(sbyte), 1, PrimitiveDatatype.SignedChar, true, 'i', "b", "int8", true),
        new(typeof(byte), 1, PrimitiveDatatype.UnsignedChar, true, 'u', "B", "uint8", true),
        new(typeof(short), 2, PrimitiveDatatype.Short, true, 'i', "h", "int16", true),
        new(typeof(ushort), 2, PrimitiveDatatype.UnsignedShort, true, 'u', "H", "uint16", true),
        new(typeof(int), 4, PrimitiveDatatype.Int, true, 'i', "i", "int32", true),
        new(typeof(uint), 4, PrimitiveDatatype.Unsigned, true, 'u', "I", "uint32", true),
        new(typeof(long), 8, PrimitiveDatatype.Long, true, 'i', "q", "int64", true),           // LP64: C long is 64-bit
        new(typeof(ulong), 8, PrimitiveDatatype.UnsignedLong, true, 'u', "Q", "uint64", true),
        new(typeof(Half), 2, PrimitiveDatatype.UnsignedShort, false, 'f', "e", "float16", true),
        new(typeof(float), 4, PrimitiveDatatype.Float, true, 'f', "f", "float32", true),
        new(typeof(double), 8, PrimitiveDatatype.Double, true, 'f', "d", "float64", true),
        new(typeof(Complex32), 8, PrimitiveDatatype.CFloatComplex, true, 'c', "Zf", "complex64", true),
        new(typeof(Complex), 16, PrimitiveDatatype.CDoubleComplex, true, 'c', "Zd", "complex128", true),
        new(typeof(bool), 1, PrimitiveDatatype.CBool, true, 'b', "?", "bool", true),           // 1 byte, like C _Bool
        new(typeof(char), 2, PrimitiveDatatype.UnsignedShort, true, 'u', "H", "uint16", false), // a UTF-16 code unit
        new(typeof(nint), 8, PrimitiveDatatype.Long, true, 'i', "q", "int64", false),
        new(typeof(nuint), 8, PrimitiveDatatype.UnsignedLong, true, 'u', "Q", "uint64", false),
    ];

    /// <summary>The entry for a .NET element type, or null when it cannot cross as raw memory.</summary>
    public static ElementType? For(Type type)
    {
        foreach (var e in All) if (e.Type == type) return e;
        return null;
    }

    /// <summary>The canonical entry of a numpy kind and item size, or null.</summary>
    public static ElementType? CanonicalOf(char kind, long size)
    {
        foreach (var e in All) if (e.Canonical && e.Kind == kind && e.Size == size) return e;
        return null;
    }

    /// <summary>Whether memory of <paramref name="other"/> may be viewed as this type: same kind and size (int64 as nint, uint16 as char).</summary>
    public bool SameLayoutAs(ElementType? other) => other is not null && other.Kind == Kind && other.Size == Size;

    /// <summary>The element types, by name, for error messages.</summary>
    public static string Names => string.Join(", ", All.Select(e => e.Type.Name));

    /// <summary>"float64 (System.Double)" — how errors name a type.</summary>
    public string Describe() => $"{DTypeName} ({Type.Name})";

    /// <summary>
    /// Reads a buffer format string (as C bytes, no allocation on success): accepts native/little-endian prefixes
    /// ('@', '=', '<'); big-endian, structured and other non-numeric formats return null and a reason.
    /// Mapping uses kind + item size, so 'l' (C long) and 'q' (long long) both become <see cref="long"/> when 8 bytes.
    /// </summary>
    public static ElementType? FromFormat(ReadOnlySpan<byte> format, long itemSize, out string? problem)
    {
        problem = null;
        ReadOnlySpan<byte> f = format.IsEmpty ? "B"u8 : format; // a NULL format means unsigned bytes
        if (f[0] is (byte)'>' or (byte)'!')
        {
            problem = $"big-endian data (format '{System.Text.Encoding.ASCII.GetString(format)}'); convert with a.astype(a.dtype.newbyteorder('='))";
            return null;
        }
        if (f[0] is (byte)'@' or (byte)'=' or (byte)'<') f = f[1..];
        char kind = f.Length switch
        {
            1 => (char)f[0] switch
            {
                'b' or 'h' or 'i' or 'l' or 'q' or 'n' => 'i',
                'B' or 'H' or 'I' or 'L' or 'Q' or 'N' => 'u',
                'e' or 'f' or 'd' => 'f',
                '?' => 'b',
                _ => '\0',
            },
            2 when f[0] == (byte)'Z' && f[1] is (byte)'f' or (byte)'d' => 'c',
            _ => '\0',
        };
        if (CanonicalOf(kind, itemSize) is { } e) return e;
        problem = $"an unsupported element type (format '{System.Text.Encoding.ASCII.GetString(format)}', {itemSize}-byte items)";
        return null;
    }
}
