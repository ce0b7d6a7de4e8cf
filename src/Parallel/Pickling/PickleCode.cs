using System.Buffers.Binary;
using System.Text;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>
/// A pickle written opcode by opcode, for the calls engines make while loading a task's function (import, exec, getattr,
/// object construction): what <see cref="PickleWriter"/> writes are values, these are programs.
/// </summary>
internal sealed class PickleCode
{
    private readonly MemoryStream _out = new();

    public PickleCode()
    {
        _out.WriteByte(Opcodes.Proto);
        _out.WriteByte(5);
    }

    public PickleCode Op(byte op)
    {
        _out.WriteByte(op);
        return this;
    }

    public PickleCode String(string s) => LengthPrefixed(Opcodes.BinUnicode, Encoding.UTF8.GetBytes(s));

    public PickleCode Int(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _out.WriteByte(Opcodes.BinInt);
        _out.Write(b);
        return this;
    }

    /// <summary>Pushes <paramref name="bytes"/> as Python bytes.</summary>
    public PickleCode Bytes(byte[] bytes) => LengthPrefixed(Opcodes.BinBytes, bytes);

    /// <summary>An opcode whose argument is a 4-byte little-endian length and that many bytes (BINUNICODE, BINBYTES).</summary>
    private PickleCode LengthPrefixed(byte opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, payload.Length);
        _out.WriteByte(opcode);
        _out.Write(length);
        _out.Write(payload);
        return this;
    }

    /// <summary>Pushes <c>module.name</c>.</summary>
    public PickleCode Global(string module, string name) => String(module).String(name).Op(Opcodes.StackGlobal);

    public PickleCode Get(byte memo)
    {
        _out.WriteByte(Opcodes.BinGet);
        _out.WriteByte(memo);
        return this;
    }

    public byte[] Stop()
    {
        _out.WriteByte(Opcodes.Stop);
        return _out.ToArray();
    }
}
