using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>
/// Writes .NET values as pickle protocol 5, the way Python's pickler would write the matching Python values:
/// null → None, bool, integers → int, float/double → float, string → str, byte[] → bytes, tuples (<see cref="ITuple"/>)
/// → tuple, other lists → list, dictionaries → dict, <see cref="Complex"/> → complex. Arrays of primitive numbers (any
/// rank), and <see cref="Memory{T}"/>/<see cref="ReadOnlyMemory{T}"/>/<see cref="ArraySegment{T}"/> of them (1-D), become
/// numpy arrays whose memory travels out of band, exactly as numpy reduces itself for protocol 5:
/// <c>numpy.core.numeric._frombuffer(NEXT_BUFFER, dtype, shape, 'C')</c>; the buffers are returned beside the pickle.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _out = new();
    private readonly List<FramePart> _buffers = [];

    /// <summary>Pickles <paramref name="value"/>: the pickle first, then its out-of-band buffers in order.</summary>
    public static List<FramePart> Dumps(object? value)
    {
        var w = new PickleWriter();
        w._out.WriteByte(Opcodes.Proto);
        w._out.WriteByte(5);
        w.Write(value);
        w._out.WriteByte(Opcodes.Stop);
        var parts = new List<FramePart>(1 + w._buffers.Count) { new(w._out.ToArray()) };
        parts.AddRange(w._buffers);
        return parts;
    }

    /// <summary>A pickle of a global reference <c>module.name</c> (what pickle writes for a function importable by name).</summary>
    public static byte[] Global(string module, string name)
    {
        var w = new PickleWriter();
        w._out.WriteByte(Opcodes.Proto);
        w._out.WriteByte(5);
        w.WriteGlobal(module, name);
        w._out.WriteByte(Opcodes.Stop);
        return w._out.ToArray();
    }

    private void Write(object? value)
    {
        switch (value)
        {
            case null: _out.WriteByte(Opcodes.None); return;
            case bool b: _out.WriteByte(b ? Opcodes.NewTrue : Opcodes.NewFalse); return;
            case int i: WriteInt(i); return;
            case long l: WriteInt(l); return;
            case short s: WriteInt(s); return;
            case sbyte sb: WriteInt(sb); return;
            case byte by: WriteInt(by); return;
            case ushort us: WriteInt(us); return;
            case uint ui: WriteInt(ui); return;
            case ulong ul: WriteBig(ul); return;
            case BigInteger big: WriteBig(big); return;
            case double d: WriteFloat(d); return;
            case float f: WriteFloat(f); return;
            case decimal m: WriteFloat((double)m); return;
            case string str: WriteString(str); return;
            case char c: WriteString(c.ToString()); return;
            case byte[] bytes: WriteBytes(bytes); return;
            case ReadOnlyMemory<byte> rom: WriteBytes(rom.Span); return;
            case Memory<byte> mem: WriteBytes(mem.Span); return;
            case Complex z:
                WriteGlobal("builtins", "complex");
                WriteFloat(z.Real);
                WriteFloat(z.Imaginary);
                _out.WriteByte(Opcodes.Tuple2);
                _out.WriteByte(Opcodes.Reduce);
                return;
            case Reference reference:
                // evaluated in the engine's namespace when the arguments are loaded
                WriteGlobal("pympibridge.parallel._serialize", "_resolve_reference");
                WriteString(reference.Expression);
                _out.WriteByte(Opcodes.Tuple1);
                _out.WriteByte(Opcodes.Reduce);
                return;
            case Array array when NumpyDtype.CodeOf(array.GetType().GetElementType()!) is { } code:
                WriteNumpyArray(code, new FramePart(array, NumpyDtype.SizeOf(array.GetType().GetElementType()!)), Shape(array));
                return;
            case not null when NumericMemory.TryGet(value, out var memory):
                WriteNumpyArray(NumpyDtype.CodeOf(memory.Array.GetType().GetElementType()!)!,
                    new FramePart(memory.Array, NumpyDtype.SizeOf(memory.Array.GetType().GetElementType()!), memory.Offset, memory.Count),
                    [memory.Count]);
                return;
            case IDictionary dict:
                _out.WriteByte(Opcodes.EmptyDict);
                if (dict.Count == 0) return;
                _out.WriteByte(Opcodes.Mark);
                foreach (DictionaryEntry e in dict)
                {
                    Write(e.Key);
                    Write(e.Value);
                }
                _out.WriteByte(Opcodes.SetItems);
                return;
            case PickleReduction reduction:
                WriteGlobal(reduction.Module, reduction.Name);
                Write(new PythonTuple(reduction.Arguments));
                _out.WriteByte(Opcodes.Reduce);
                return;
            case var _ when EngineConverters.TryToEngine(value, out object? engineForm):
                Write(engineForm);
                return;
            case ITuple tuple:
                _out.WriteByte(Opcodes.Mark);
                for (int i = 0; i < tuple.Length; i++) Write(tuple[i]);
                _out.WriteByte(Opcodes.Tuple);
                return;
            case IEnumerable items:
                _out.WriteByte(Opcodes.EmptyList);
                _out.WriteByte(Opcodes.Mark);
                foreach (var item in items) Write(item);
                _out.WriteByte(Opcodes.Appends);
                return;
            default:
                throw new ArgumentException(
                    $"a {value.GetType().FullName} cannot be sent to Python engines: send null, bool, numbers, strings, " +
                    "byte[], arrays of primitive numbers (they arrive as numpy arrays), lists, tuples or dictionaries");
        }
    }

    private void WriteInt(long v)
    {
        Span<byte> b = stackalloc byte[4];
        if (v is >= 0 and <= byte.MaxValue)
        {
            _out.WriteByte(Opcodes.BinInt1);
            _out.WriteByte((byte)v);
        }
        else if (v is >= 0 and <= ushort.MaxValue)
        {
            _out.WriteByte(Opcodes.BinInt2);
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
            _out.Write(b[..2]);
        }
        else if (v is >= int.MinValue and <= int.MaxValue)
        {
            _out.WriteByte(Opcodes.BinInt);
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
            _out.Write(b);
        }
        else WriteBig(v);
    }

    private void WriteBig(BigInteger v)
    {
        if (v >= int.MinValue && v <= int.MaxValue)
        {
            WriteInt((long)v);
            return;
        }
        byte[] bytes = v.ToByteArray(isUnsigned: false, isBigEndian: false); // two's complement, as pickle's LONG1
        if (bytes.Length < 256)
        {
            _out.WriteByte(Opcodes.Long1);
            _out.WriteByte((byte)bytes.Length);
        }
        else
        {
            _out.WriteByte(Opcodes.Long4);
            WriteUInt32(bytes.Length);
        }
        _out.Write(bytes);
    }

    private void WriteFloat(double d)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, d);
        _out.WriteByte(Opcodes.BinFloat);
        _out.Write(b);
    }

    private void WriteString(string s) => WriteSized(Opcodes.ShortBinUnicode, Opcodes.BinUnicode, Encoding.UTF8.GetBytes(s));

    private void WriteBytes(ReadOnlySpan<byte> bytes) => WriteSized(Opcodes.ShortBinBytes, Opcodes.BinBytes, bytes);

    /// <summary>A str or bytes value: the short opcode with a one-byte length under 256 bytes, else the 4-byte one.</summary>
    private void WriteSized(byte shortOp, byte longOp, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 256)
        {
            _out.WriteByte(shortOp);
            _out.WriteByte((byte)bytes.Length);
        }
        else
        {
            _out.WriteByte(longOp);
            WriteUInt32(bytes.Length);
        }
        _out.Write(bytes);
    }

    private void WriteUInt32(int n)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, n);
        _out.Write(b);
    }

    private void WriteGlobal(string module, string name)
    {
        WriteString(module);
        WriteString(name);
        _out.WriteByte(Opcodes.StackGlobal);
    }

    private static int[] Shape(Array array)
    {
        var shape = new int[array.Rank];
        for (int d = 0; d < shape.Length; d++) shape[d] = array.GetLength(d);
        return shape;
    }

    private void WriteNumpyArray(string code, FramePart data, int[] shape)
    {
        WriteGlobal("numpy.core.numeric", "_frombuffer");
        _out.WriteByte(Opcodes.Mark);
        _out.WriteByte(Opcodes.NextBuffer);
        _buffers.Add(data);
        // numpy.dtype('f8', False, True) with state (3, '<', None, None, None, -1, -1, 0): numpy's own reduction
        WriteGlobal("numpy", "dtype");
        WriteString(code);
        _out.WriteByte(Opcodes.NewFalse);
        _out.WriteByte(Opcodes.NewTrue);
        _out.WriteByte(Opcodes.Tuple3);
        _out.WriteByte(Opcodes.Reduce);
        _out.WriteByte(Opcodes.Mark);
        WriteInt(3);
        WriteString(NumpyDtype.ByteOrderOf(code));
        _out.WriteByte(Opcodes.None);
        _out.WriteByte(Opcodes.None);
        _out.WriteByte(Opcodes.None);
        WriteInt(-1);
        WriteInt(-1);
        WriteInt(0);
        _out.WriteByte(Opcodes.Tuple);
        _out.WriteByte(Opcodes.Build);
        _out.WriteByte(Opcodes.Mark);
        foreach (int length in shape) WriteInt(length);
        _out.WriteByte(Opcodes.Tuple);
        WriteString("C"); // .NET multidimensional arrays are row-major
        _out.WriteByte(Opcodes.Tuple);
        _out.WriteByte(Opcodes.Reduce);
    }
}
