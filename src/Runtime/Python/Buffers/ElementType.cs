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
    /// Reads a buffer format string: accepts native/little-endian prefixes ('@', '=', '<'), rejects big-endian,
    /// structured and other non-numeric formats with a reason.
    /// </summary>
    public static ElementType? FromFormat(string? format, long itemSize, out string description)
    {
        string f = format ?? "B"; // NULL format means unsigned bytes
        description = $"format '{f}', {itemSize}-byte items";
        if (f.Length > 0 && f[0] is '>' or '!')
        {
            description = $"big-endian data (format '{f}'); convert with a.astype(a.dtype.newbyteorder('='))";
            return null;
        }
        if (f.Length > 0 && f[0] is '@' or '=' or '<') f = f[1..];
        char kind = f switch
        {
            "b" or "h" or "i" or "l" or "q" or "n" => 'i',
            "B" or "H" or "I" or "L" or "Q" or "N" => 'u',
            "e" or "f" or "d" => 'f',
            "Zf" or "Zd" => 'c',
            "?" => 'b',
            _ => '\0',
        };
        foreach (var e in All)
            if (e.Kind == kind && e.Size == itemSize)
            {
                description = e.DTypeName;
                return e;
            }
        description = $"an unsupported element type ({description})";
        return null;
    }
}
