using System.Numerics;

namespace PyMpiBridge.Python;

/// <summary>
/// A numeric element type both sides understand: the .NET type, its buffer-protocol format (PEP 3118 / struct
/// module), numpy's dtype name and size. Mapping from a format uses kind + item size, so 'l' (C long) and 'q'
/// (long long) both become <see cref="long"/> when they are 8 bytes.
/// </summary>
internal sealed record ElementType(Type Type, string Format, string DTypeName, int Size, char Kind)
{
    public static readonly ElementType[] All =
    [
        new(typeof(sbyte), "b", "int8", 1, 'i'),
        new(typeof(byte), "B", "uint8", 1, 'u'),
        new(typeof(short), "h", "int16", 2, 'i'),
        new(typeof(ushort), "H", "uint16", 2, 'u'),
        new(typeof(int), "i", "int32", 4, 'i'),
        new(typeof(uint), "I", "uint32", 4, 'u'),
        new(typeof(long), "q", "int64", 8, 'i'),
        new(typeof(ulong), "Q", "uint64", 8, 'u'),
        new(typeof(Half), "e", "float16", 2, 'f'),
        new(typeof(float), "f", "float32", 4, 'f'),
        new(typeof(double), "d", "float64", 8, 'f'),
        new(typeof(Complex32), "Zf", "complex64", 8, 'c'),
        new(typeof(Complex), "Zd", "complex128", 16, 'c'),
        new(typeof(bool), "?", "bool", 1, 'b'),
    ];

    /// <summary>The entry for a .NET element type, or null when it cannot cross as raw memory.</summary>
    public static ElementType? For(Type type)
    {
        foreach (var e in All) if (e.Type == type) return e;
        return null;
    }

    /// <summary>"float64 (System.Double)" — how errors name a type.</summary>
    public string Describe() => $"{DTypeName} ({Type.Name})";

    /// <summary>
    /// Reads a buffer format string (as C bytes, no allocation on success): accepts native/little-endian prefixes
    /// ('@', '=', '<'); big-endian, structured and other non-numeric formats return null and a reason.
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
        foreach (var e in All)
            if (e.Kind == kind && e.Size == itemSize) return e;
        problem = $"an unsupported element type (format '{System.Text.Encoding.ASCII.GetString(format)}', {itemSize}-byte items)";
        return null;
    }
}
