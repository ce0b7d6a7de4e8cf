using System.Diagnostics;
using PyMpiBridge.Mpi;
using PyMpiBridge.Mpi.Interop;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Tests.Mpi;

/// <summary>
/// The hard-coded ABI tables against the real headers: abi_constants.c is compiled with each
/// implementation's compiler wrapper and every constant it prints is compared with our table.
/// </summary>
public class AbiHeaderTests
{
    private static readonly string[] ErrorClassNames =
    [
        "BUFFER", "COUNT", "TYPE", "TAG", "COMM", "RANK", "REQUEST", "ROOT", "GROUP", "OP", "TOPOLOGY", "DIMS", "ARG",
        "UNKNOWN", "TRUNCATE", "OTHER", "INTERN", "IN_STATUS", "PENDING", "NO_MEM",
    ];

    [Test]
    public async Task MpichTable_MatchesMpiHCompiledWithMpiccMpich()
    {
        var header = await CompileAndRunAsync("mpicc.mpich");
        var table = MpichAbi.Create();
        AssertCommon(header, table);
        Assert.Multiple(() =>
        {
            Assert.That(table.CommWorld, Is.EqualTo(Handle(header["COMM_WORLD"])));
            Assert.That(table.CommSelf, Is.EqualTo(Handle(header["COMM_SELF"])));
            Assert.That(table.CommNull, Is.EqualTo(Handle(header["COMM_NULL"])));
            Assert.That(table.GroupEmpty, Is.EqualTo(Handle(header["GROUP_EMPTY"])));
            Assert.That(table.GroupNull, Is.EqualTo(Handle(header["GROUP_NULL"])));
            Assert.That(table.RequestNull, Is.EqualTo(Handle(header["REQUEST_NULL"])));
            Assert.That(table.OpNull, Is.EqualTo(Handle(header["OP_NULL"])));
            Assert.That(table.ErrorsReturn, Is.EqualTo(Handle(header["ERRORS_RETURN"])));
            Assert.That(table.DatatypeNull, Is.EqualTo(Handle(header["DATATYPE_NULL"])));
            string[] types = ["SIGNED_CHAR", "UNSIGNED_CHAR", "SHORT", "UNSIGNED_SHORT", "INT", "UNSIGNED", "LONG", "UNSIGNED_LONG", "FLOAT", "DOUBLE", "C_BOOL", "C_DOUBLE_COMPLEX", "BYTE"];
            for (int i = 0; i < types.Length; i++)
                Assert.That(table.Datatypes[i], Is.EqualTo(Handle(header[types[i]])), types[i]);
            string[] ops = ["SUM", "PROD", "MIN", "MAX", "LAND", "LOR", "LXOR", "BAND", "BOR", "BXOR"];
            for (int i = 0; i < ops.Length; i++)
                Assert.That(table.Ops[i], Is.EqualTo(Handle(header[ops[i]])), ops[i]);
        });
    }

    [Test]
    public async Task OpenMpiTable_MatchesMpiHCompiledWithMpicc()
    {
        var header = await CompileAndRunAsync("mpicc");
        nint lib = Libdl.OpenGlobal("libmpi.so.40", out string? error);
        Assert.That(lib, Is.Not.EqualTo((nint)0), error);
        AssertCommon(header, OpenMpiAbi.Create(lib, "libmpi.so.40"));
    }

    private static void AssertCommon(Dictionary<string, long> header, MpiAbiTable table)
    {
        Assert.Multiple(() =>
        {
            Assert.That(table.StatusSize, Is.EqualTo(header["STATUS_SIZE"]));
            Assert.That(table.HandleSize, Is.EqualTo(header["HANDLE_SIZE"]));
            Assert.That(table.AnySource, Is.EqualTo(header["ANY_SOURCE"]));
            Assert.That(table.AnyTag, Is.EqualTo(header["ANY_TAG"]));
            Assert.That(table.ProcNull, Is.EqualTo(header["PROC_NULL"]));
            Assert.That(table.Undefined, Is.EqualTo(header["UNDEFINED"]));
            Assert.That(MpiEnvironment.Undefined, Is.EqualTo(header["UNDEFINED"]));
            Assert.That((long)table.InPlace, Is.EqualTo(header["IN_PLACE"]));
            Assert.That((long)table.StatusIgnore, Is.EqualTo(header["STATUS_IGNORE"]));
            Assert.That((long)table.StatusesIgnore, Is.EqualTo(header["STATUSES_IGNORE"]));
            Assert.That(table.MaxErrorString, Is.EqualTo(header["MAX_ERROR_STRING"]));
            Assert.That(table.MaxLibraryVersionString, Is.EqualTo(header["MAX_LIBRARY_VERSION_STRING"]));
            Assert.That(table.MaxProcessorName, Is.EqualTo(header["MAX_PROCESSOR_NAME"]));
            Assert.That((int)ThreadLevel.Single, Is.EqualTo(header["THREAD_SINGLE"]));
            Assert.That((int)ThreadLevel.Funneled, Is.EqualTo(header["THREAD_FUNNELED"]));
            Assert.That((int)ThreadLevel.Serialized, Is.EqualTo(header["THREAD_SERIALIZED"]));
            Assert.That((int)ThreadLevel.Multiple, Is.EqualTo(header["THREAD_MULTIPLE"]));
            Assert.That((int)CommComparison.Identical, Is.EqualTo(header["IDENT"]));
            Assert.That((int)CommComparison.Congruent, Is.EqualTo(header["CONGRUENT"]));
            Assert.That((int)CommComparison.Similar, Is.EqualTo(header["SIMILAR"]));
            Assert.That((int)CommComparison.Unequal, Is.EqualTo(header["UNEQUAL"]));
            foreach (string name in ErrorClassNames)
            {
                var expected = Enum.Parse<MpiErrorClass>(name.Replace("_", ""), ignoreCase: true);
                Assert.That(table.MapErrorClass((int)header["ERR_" + name]), Is.EqualTo(expected), "MPI_ERR_" + name);
            }
        });
    }

    private static nint Handle(long value) => (nint)value;

    private static async Task<Dictionary<string, long>> CompileAndRunAsync(string compiler)
    {
        string source = Path.Combine(ScenarioRun.RepoRoot(), "tests", "PyMpiBridge.Tests", "Mpi", "abi_constants.c");
        string exe = Path.Combine(Path.GetTempPath(), $"pympi_abi_{compiler.Replace('.', '_')}_{Environment.ProcessId}");
        try
        {
            string compile = await RunAsync(compiler, ["-o", exe, source]);
            Assert.That(File.Exists(exe), Is.True, $"{compiler} did not build {source}: {compile}");
            string output = await RunAsync(exe, []);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' '))
                .ToDictionary(p => p[0], p => long.Parse(p[1]));
        }
        finally
        {
            File.Delete(exe);
        }
    }

    private static async Task<string> RunAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await InTime.Exit(p, TimeSpan.FromSeconds(60));
        Assert.That(p.ExitCode, Is.EqualTo(0), $"{program} failed: {await stderr}");
        return await stdout;
    }
}
