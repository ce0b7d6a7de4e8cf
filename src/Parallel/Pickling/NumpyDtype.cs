using System.Numerics;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>numpy dtype strings (<c>'f8'</c>, <c>'i4'</c>, …) of the .NET primitive element types that cross as arrays.</summary>
internal static class NumpyDtype
{
    private static readonly (Type Type, string Code)[] Table =
    [
        (typeof(double), "f8"), (typeof(float), "f4"), (typeof(long), "i8"), (typeof(int), "i4"), (typeof(short), "i2"),
        (typeof(sbyte), "i1"), (typeof(ulong), "u8"), (typeof(uint), "u4"), (typeof(ushort), "u2"), (typeof(byte), "u1"),
        (typeof(bool), "b1"), (typeof(Complex), "c16"),
    ];

    /// <summary>The dtype code of a .NET element type, or null when it does not travel as a numpy array.</summary>
    public static string? CodeOf(Type elementType)
    {
        foreach (var (t, c) in Table)
            if (t == elementType) return c;
        return null;
    }

    /// <summary>The .NET element type of a dtype code; throws naming the dtype when there is none.</summary>
    public static Type TypeOf(string code)
    {
        foreach (var (t, c) in Table)
            if (c == code) return t;
        throw new UnsupportedPickleException(
            $"numpy dtype '{code}' has no .NET element type here (supported: {string.Join(", ", Table.Select(e => e.Code))})");
    }

    /// <summary>numpy's byte-order character for a dtype: '|' for one-byte types, '&lt;' otherwise (little-endian).</summary>
    public static string ByteOrderOf(string code) => code is "b1" or "i1" or "u1" ? "|" : "<";

    public static int SizeOf(Type elementType) =>
        elementType == typeof(bool) ? 1 : elementType == typeof(Complex) ? 16 : System.Runtime.InteropServices.Marshal.SizeOf(elementType);
}
