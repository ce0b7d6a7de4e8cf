using System.Buffers.Binary;

namespace PyMpiBridge.Parallel.Wire;

/// <summary>Request kinds of the hot path (client → engine), as <c>_protocol.py</c>.</summary>
internal enum TaskKind : byte { Apply = 1, Execute = 2, Push = 3, Pull = 4, Abort = 5, Clear = 6 }

/// <summary>Reply status (engine → client).</summary>
internal enum ReplyStatus : byte { Ok = 0, Error = 1, Aborted = 2 }

/// <summary>
/// The fixed binary headers of <c>_protocol.py</c>: a request is <c>struct "&lt;BBHIQd"</c> (kind, flags, 0, 0, seq,
/// submitted), a reply <c>struct "&lt;BBHIQdd"</c> (status, flags, 0, 0, seq, started, completed); times are unix seconds.
/// </summary>
internal static class TaskHeaders
{
    public const int RequestSize = 24;
    public const int ReplySize = 32;
    public const byte SilentFlag = 1;      // execute: no execute_result
    public const byte HasResultFlag = 1;   // reply to execute: the payload holds the execute_result

    public static byte[] Request(TaskKind kind, byte flags, ulong seq, double submitted)
    {
        var b = new byte[RequestSize];
        b[0] = (byte)kind;
        b[1] = flags;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), seq);
        BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(16), submitted);
        return b;
    }

    public static (ReplyStatus Status, byte Flags, ulong Seq, double Started, double Completed) Reply(ReadOnlySpan<byte> b)
    {
        if (b.Length < ReplySize) throw new InvalidDataException($"a reply header of {b.Length} bytes (expected {ReplySize})");
        return ((ReplyStatus)b[0], b[1], BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            BinaryPrimitives.ReadDoubleLittleEndian(b[16..]), BinaryPrimitives.ReadDoubleLittleEndian(b[24..]));
    }

    public static double UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
