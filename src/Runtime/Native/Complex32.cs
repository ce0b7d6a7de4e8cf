using System.Runtime.InteropServices;

namespace PyMpiBridge;

/// <summary>
/// A single-precision complex number, laid out as numpy's <c>complex64</c> (two float32: real, imaginary),
/// so <c>complex64</c> arrays can be shared without copying. (<see cref="System.Numerics.Complex"/> is complex128.)
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Complex32(float Real, float Imaginary)
{
    /// <summary>Widens to <see cref="System.Numerics.Complex"/>.</summary>
    public static implicit operator System.Numerics.Complex(Complex32 c) => new(c.Real, c.Imaginary);

    /// <summary>Narrows from <see cref="System.Numerics.Complex"/> (rounds both parts to float).</summary>
    public static explicit operator Complex32(System.Numerics.Complex c) => new((float)c.Real, (float)c.Imaginary);
}
