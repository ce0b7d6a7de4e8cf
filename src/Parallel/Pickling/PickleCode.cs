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

    public PickleCode String(string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        _out.WriteByte(Opcodes.BinUnicode);
        _out.Write(length);
        _out.Write(utf8);
        return this;
    }

    public PickleCode Int(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _out.WriteByte(Opcodes.BinInt);
        _out.Write(b);
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
