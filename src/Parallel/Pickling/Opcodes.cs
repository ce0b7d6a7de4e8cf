namespace PyMpiBridge.Parallel.Pickling;

/// <summary>The pickle opcodes this codec reads or writes (CPython's <c>Lib/pickle.py</c> names).</summary>
internal static class Opcodes
{
    public const byte Mark = (byte)'(', Stop = (byte)'.', Pop = (byte)'0', PopMark = (byte)'1', Dup = (byte)'2';
    public const byte Float = (byte)'F', Int = (byte)'I', BinInt = (byte)'J', BinInt1 = (byte)'K', Long = (byte)'L', BinInt2 = (byte)'M';
    public const byte None = (byte)'N', Reduce = (byte)'R', String = (byte)'S', BinString = (byte)'T', ShortBinString = (byte)'U';
    public const byte Unicode = (byte)'V', BinUnicode = (byte)'X', Append = (byte)'a', Build = (byte)'b', Global = (byte)'c';
    public const byte Dict = (byte)'d', EmptyDict = (byte)'}', Appends = (byte)'e', Get = (byte)'g', BinGet = (byte)'h';
    public const byte LongBinGet = (byte)'j', List = (byte)'l', EmptyList = (byte)']', Put = (byte)'p', BinPut = (byte)'q';
    public const byte LongBinPut = (byte)'r', SetItem = (byte)'s', Tuple = (byte)'t', EmptyTuple = (byte)')', SetItems = (byte)'u';
    public const byte BinFloat = (byte)'G';
    public const byte Proto = 0x80, NewObj = 0x81, Tuple1 = 0x85, Tuple2 = 0x86, Tuple3 = 0x87, NewTrue = 0x88, NewFalse = 0x89;
    public const byte Long1 = 0x8a, Long4 = 0x8b, BinBytes = (byte)'B', ShortBinBytes = (byte)'C';
    public const byte ShortBinUnicode = 0x8c, BinUnicode8 = 0x8d, BinBytes8 = 0x8e, EmptySet = 0x8f, AddItems = 0x90;
    public const byte FrozenSet = 0x91, NewObjEx = 0x92, StackGlobal = 0x93, Memoize = 0x94, Frame = 0x95;
    public const byte ByteArray8 = 0x96, NextBuffer = 0x97, ReadOnlyBuffer = 0x98;

    /// <summary>A readable name for an opcode byte, for error messages.</summary>
    public static string Describe(byte op)
    {
        foreach (var field in typeof(Opcodes).GetFields())
            if (field.IsLiteral && field.FieldType == typeof(byte) && (byte)field.GetRawConstantValue()! == op)
                return $"{field.Name.ToUpperInvariant()} (0x{op:x2})";
        return op is >= 0x20 and < 0x7f ? $"'{(char)op}' (0x{op:x2})" : $"0x{op:x2}";
    }
}
