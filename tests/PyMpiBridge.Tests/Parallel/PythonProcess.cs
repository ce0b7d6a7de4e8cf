using System.Buffers.Binary;
using System.Diagnostics;

namespace PyMpiBridge.Tests.Parallel;

/// <summary>Runs Debian's python3 (it has numpy) on a script, feeding and reading frames of parts (u32 n, u64 lengths, parts).</summary>
internal static class PythonProcess
{
    public const string Frames = """
        import sys, struct, pickle
        def read_frame():
            data = sys.stdin.buffer.read()
            (n,) = struct.unpack_from("<I", data, 0)
            lengths = struct.unpack_from(f"<{n}Q", data, 4)
            pos, parts = 4 + 8 * n, []
            for l in lengths:
                parts.append(bytearray(data[pos:pos + l])); pos += l
            return parts
        def write_frame(parts):
            parts = [bytes(p) for p in parts]
            out = struct.pack("<I", len(parts)) + struct.pack(f"<{len(parts)}Q", *map(len, parts)) + b"".join(parts)
            sys.stdout.buffer.write(out); sys.stdout.buffer.flush()
        """;

    public static byte[] Run(string script, byte[] input)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Frames + "\n" + script);
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var err = p.StandardError.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(input);
        p.StandardInput.Close();
        Assert.That(p.WaitForExit(60_000), "python did not finish within 60 s");
        copy.Wait();
        Assert.That(p.ExitCode, Is.EqualTo(0), err.Result);
        return stdout.ToArray();
    }

    public static byte[] Frame(IReadOnlyList<byte[]> parts)
    {
        var ms = new MemoryStream();
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)parts.Count);
        ms.Write(b[..4]);
        foreach (var p in parts) { BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)p.Length); ms.Write(b); }
        foreach (var p in parts) ms.Write(p);
        return ms.ToArray();
    }

    public static byte[][] ParseFrame(byte[] data)
    {
        int n = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
        var parts = new byte[n][];
        int pos = 4 + 8 * n;
        for (int i = 0; i < n; i++)
        {
            int len = (int)BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(4 + 8 * i));
            parts[i] = data.AsSpan(pos, len).ToArray();
            pos += len;
        }
        return parts;
    }
}
