using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using System.Text;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel.Pickling;

/// <summary>
/// Reads pickles (protocols 2–5) of the values engines send back: None → null, bool, int → <see cref="long"/> (or
/// <see cref="BigInteger"/> beyond 64 bits), float → double, str → string, bytes/bytearray → byte[], list →
/// <see cref="List{T}"/> of object, tuple → object[], dict → <see cref="Dictionary{TKey,TValue}"/> of object to object, set →
/// <see cref="HashSet{T}"/>, complex → <see cref="Complex"/>, datetime → <see cref="DateTime"/> (UTC when aware), timedelta →
/// <see cref="TimeSpan"/>; numpy arrays (out-of-band buffers or in-band) → .NET arrays of the element type with the
/// same shape (1-D → <c>T[]</c>, 2-D → <c>T[,]</c>, …); numpy scalars → their .NET primitive. Anything else is an
/// <see cref="UnsupportedPickleException"/> naming the opcode or the Python class.
/// </summary>
internal sealed class PickleReader
{
    private readonly byte[] _data;
    private readonly IReadOnlyList<ReceivedPart> _buffers;
    private int _pos;
    private int _nextBuffer;
    private int _unconsumedBuffers;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<int, object?> _memo = [];

    private PickleReader(byte[] data, IReadOnlyList<ReceivedPart> buffers)
    {
        _data = data;
        _buffers = buffers;
    }

    /// <summary>
    /// Unpickles <paramref name="data"/> whose out-of-band buffers are <paramref name="buffers"/>; a numpy array's buffer
    /// is copied once, straight into the .NET array (from a memory file when it came as a descriptor).
    /// </summary>
    public static object? Loads(byte[] data, IReadOnlyList<ReceivedPart>? buffers = null) =>
        new PickleReader(data, buffers ?? []).Run();

    /// <summary>As <see cref="Loads(byte[], IReadOnlyList{ReceivedPart}?)"/>, with buffers that are plain bytes.</summary>
    public static object? Loads(byte[] data, IReadOnlyList<byte[]> buffers) =>
        Loads(data, buffers.Select(b => new ReceivedPart(b)).ToList());

    /// <summary>A Python global the reader met (a class or function), kept until something calls it.</summary>
    private sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    /// <summary>A numpy dtype under construction (its byte order arrives with BUILD).</summary>
    private sealed class Dtype(string code)
    {
        public string Code = code;
        public string Order = "<";
    }

    /// <summary><c>numpy.core.multiarray._reconstruct(...)</c> before BUILD fills it (arrays pickled in band).</summary>
    private sealed class PendingNdarray;

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw new InvalidDataException("pickle data ended without STOP");
            byte op = _data[_pos++];
            switch (op)
            {
                case Opcodes.Proto: _pos++; break;
                case Opcodes.Frame: _pos += 8; break;
                case Opcodes.Stop: return _unconsumedBuffers > 0 ? Materialize(Pop()) : Pop();
                case Opcodes.Mark: _marks.Push(_stack.Count); break;
                case Opcodes.Pop: Pop(); break;
                case Opcodes.PopMark: PopToMark(); break;
                case Opcodes.Dup: Push(_stack[^1]); break;
                case Opcodes.None: Push(null); break;
                case Opcodes.NewTrue: Push(true); break;
                case Opcodes.NewFalse: Push(false); break;
                case Opcodes.BinInt: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case Opcodes.BinInt1: Push((long)Take(1)[0]); break;
                case Opcodes.BinInt2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case Opcodes.Long1: Push(Long(Take(Take(1)[0]))); break;
                case Opcodes.Long4: Push(Long(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;
                case Opcodes.BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case Opcodes.ShortBinUnicode: Push(Encoding.UTF8.GetString(Take(Take(1)[0]))); break;
                case Opcodes.BinUnicode: Push(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;
                case Opcodes.BinUnicode8: Push(Encoding.UTF8.GetString(Take(Length8()))); break;
                case Opcodes.ShortBinBytes: Push(Take(Take(1)[0]).ToArray()); break;
                case Opcodes.BinBytes: Push(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))).ToArray()); break;
                case Opcodes.BinBytes8:
                case Opcodes.ByteArray8: Push(Take(Length8()).ToArray()); break;
                case Opcodes.NextBuffer:
                    if (_nextBuffer >= _buffers.Count)
                        throw new InvalidDataException($"the pickle uses out-of-band buffer {_nextBuffer} but {_buffers.Count} arrived");
                    Push(_buffers[_nextBuffer++]);
                    _unconsumedBuffers++;
                    break;
                case Opcodes.ReadOnlyBuffer: break;
                case Opcodes.EmptyList: Push(new List<object?>()); break;
                case Opcodes.List: Push(new List<object?>(PopToMark())); break;
                case Opcodes.Append: { var v = Pop(); ((List<object?>)_stack[^1]!).Add(v); break; }
                case Opcodes.Appends: { var items = PopToMark(); ((List<object?>)_stack[^1]!).AddRange(items); break; }
                case Opcodes.EmptyTuple: Push(Array.Empty<object?>()); break;
                case Opcodes.Tuple: Push(PopToMark()); break;
                case Opcodes.Tuple1: Push(new[] { Pop() }); break;
                case Opcodes.Tuple2: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case Opcodes.Tuple3: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case Opcodes.EmptyDict: Push(new Dictionary<object, object?>()); break;
                case Opcodes.Dict: { var d = new Dictionary<object, object?>(); AddPairs(d, PopToMark()); Push(d); break; }
                case Opcodes.SetItem: { var v = Pop(); var k = Pop(); AddPairs((Dictionary<object, object?>)_stack[^1]!, [k, v]); break; }
                case Opcodes.SetItems: { var items = PopToMark(); AddPairs((Dictionary<object, object?>)_stack[^1]!, items); break; }
                case Opcodes.EmptySet: Push(new HashSet<object?>()); break;
                case Opcodes.AddItems: { var items = PopToMark(); ((HashSet<object?>)_stack[^1]!).UnionWith(items); break; }
                case Opcodes.FrozenSet: Push(new HashSet<object?>(PopToMark())); break;
                case Opcodes.Memoize: _memo[_memo.Count] = _stack[^1]; break;
                case Opcodes.BinPut: _memo[Take(1)[0]] = _stack[^1]; break;
                case Opcodes.LongBinPut: _memo[BinaryPrimitives.ReadInt32LittleEndian(Take(4))] = _stack[^1]; break;
                case Opcodes.BinGet: Push(Memo(Take(1)[0])); break;
                case Opcodes.LongBinGet: Push(Memo(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))); break;
                case Opcodes.StackGlobal: { var name = (string)Pop()!; var module = (string)Pop()!; Push(new Global(module, name)); break; }
                case Opcodes.Global:
                {
                    string module = ReadLine(), name = ReadLine();
                    Push(new Global(module, name));
                    break;
                }
                case Opcodes.Reduce: { var args = (object?[])Pop()!; var callable = Pop(); Push(Call(callable, args)); break; }
                case Opcodes.Build: { var state = Pop(); Build(state); break; }
                default:
                    throw new UnsupportedPickleException(
                        $"pickle opcode {Opcodes.Describe(op)} at byte {_pos - 1} is not supported by the C# reader " +
                        "(it reads None, bool, int, float, str, bytes, list, tuple, dict, set and numpy arrays)");
            }
        }
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count == 0) throw new InvalidDataException("malformed pickle: stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object?[] PopToMark()
    {
        if (_marks.Count == 0) throw new InvalidDataException("malformed pickle: no MARK");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Memo(int index) =>
        _memo.TryGetValue(index, out var v) ? v : throw new InvalidDataException($"malformed pickle: memo {index} unset");

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > _data.Length) throw new InvalidDataException("pickle data ended in the middle of a value");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    private int Length8()
    {
        long n = BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        return n <= int.MaxValue ? (int)n : throw new InvalidDataException($"a pickled value of {n} bytes is too large");
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw new InvalidDataException("pickle data ended in the middle of a GLOBAL");
        string s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private static object Long(ReadOnlySpan<byte> bytes)
    {
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private static void AddPairs(Dictionary<object, object?> dict, object?[] items)
    {
        for (int i = 0; i + 1 < items.Length; i += 2)
            dict[items[i] ?? throw new UnsupportedPickleException("a dict with the key None has no .NET equivalent")] = items[i + 1];
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not Global g)
            throw new UnsupportedPickleException($"the pickle calls a {callable?.GetType().Name ?? "None"}, which the C# reader cannot");
        switch (g.Module, g.Name)
        {
            case ("numpy.core.numeric" or "numpy._core.numeric", "_frombuffer"):
                return NumpyArrays.FromBuffer(Buffer(args[0]), DtypeOf(args[1]), Shape(args[2]), (string)args[3]!);
            case ("numpy", "dtype"):
                return new Dtype((string)args[0]!);
            case ("numpy.core.multiarray" or "numpy._core.multiarray", "_reconstruct"):
                return new PendingNdarray();
            case ("numpy.core.multiarray" or "numpy._core.multiarray", "scalar"):
                return NumpyArrays.Scalar(DtypeOf(args[0]), (byte[])args[1]!);
            case ("builtins", "complex"):
                return new Complex(Convert.ToDouble(args[0]), args.Length > 1 ? Convert.ToDouble(args[1]) : 0);
            case ("builtins", "bytearray"):
                return args.Length == 0 ? [] : args[0] is ReceivedPart or byte[] ? Bytes(args[0]) : throw new UnsupportedPickleException("bytearray from a non-bytes value");
            case ("builtins", "set" or "frozenset"):
                return new HashSet<object?>(args.Length == 0 ? [] : (IEnumerable<object?>)args[0]!);
            case ("datetime", "timedelta"):
                return TimeSpan.FromDays(Convert.ToDouble(args[0])) + TimeSpan.FromSeconds(Convert.ToDouble(args.ElementAtOrDefault(1) ?? 0L))
                       + TimeSpan.FromMicroseconds(Convert.ToDouble(args.ElementAtOrDefault(2) ?? 0L));
            case ("datetime", "timezone"):
                return args[0] is TimeSpan offset ? offset : TimeSpan.Zero;
            case ("datetime", "datetime"):
                return DateTimeFromState((byte[])args[0]!, args.Length > 1 ? args[1] : null);
            default:
                throw new UnsupportedPickleException(
                    $"the pickle builds a Python {g}, which the C# reader does not know " +
                    "(convert it on the engine to a list, dict, number, string or numpy array)");
        }
    }

    private void Build(object? state)
    {
        var target = _stack[^1];
        switch (target)
        {
            case Dtype dtype when state is object?[] { Length: >= 2 } s:
                dtype.Order = (string)s[1]!;
                break;
            case PendingNdarray pending when state is object?[] { Length: 5 } s:
                object? data = s[4] is byte[] bytes ? bytes : throw new UnsupportedPickleException(
                    "a numpy array of Python objects (dtype=object) has no .NET element type");
                var array = NumpyArrays.FromBuffer(new ReceivedPart((byte[])data), DtypeOf(s[2]), Shape(s[1]), s[3] is true ? "F" : "C");
                _stack[^1] = array;
                foreach (var key in _memo.Where(kv => ReferenceEquals(kv.Value, pending)).Select(kv => kv.Key).ToList())
                    _memo[key] = array;
                break;
            default:
                throw new UnsupportedPickleException(
                    $"the pickle sets the state of a {target?.GetType().Name ?? "None"} (BUILD), which the C# reader cannot");
        }
    }

    /// <summary>An out-of-band buffer (or in-band bytes) as a part to copy from; counts it as used.</summary>
    private ReceivedPart Buffer(object? value)
    {
        switch (value)
        {
            case ReceivedPart part:
                _unconsumedBuffers--;
                return part;
            case byte[] bytes:
                return new ReceivedPart(bytes);
            default:
                throw new InvalidDataException($"expected a buffer, got {value?.GetType().Name ?? "None"}");
        }
    }

    private byte[] Bytes(object? value) => value is byte[] bytes ? bytes : Buffer(value).Bytes;

    /// <summary>Out-of-band buffers no numpy array took (a bytearray sent out of band, say) become byte[] wherever they are.</summary>
    private static object? Materialize(object? value)
    {
        switch (value)
        {
            case ReceivedPart part: return part.Bytes;
            case List<object?> list:
                for (int i = 0; i < list.Count; i++) list[i] = Materialize(list[i]);
                return list;
            case object?[] tuple:
                for (int i = 0; i < tuple.Length; i++) tuple[i] = Materialize(tuple[i]);
                return tuple;
            case Dictionary<object, object?> dict:
                foreach (var key in dict.Keys.ToList()) dict[key] = Materialize(dict[key]);
                return dict;
            default: return value;
        }
    }

    private static (string Code, string Order) DtypeOf(object? value) =>
        value is Dtype d ? (d.Code, d.Order) : throw new UnsupportedPickleException($"expected a numpy dtype, got {value}");

    private static int[] Shape(object? value) =>
        value is object?[] dims ? dims.Select(x => checked((int)(long)x!)).ToArray()
            : throw new InvalidDataException($"expected an array shape, got {value}");

    private static DateTime DateTimeFromState(byte[] s, object? tz)
    {
        int year = s[0] << 8 | s[1];
        var dt = new DateTime(year, s[2], s[3], s[4], s[5], s[6], DateTimeKind.Unspecified)
            .AddTicks((s[7] << 16 | s[8] << 8 | s[9]) * 10L);
        if (tz is TimeSpan offset) return DateTime.SpecifyKind(dt - offset, DateTimeKind.Utc);
        return dt;
    }
}
