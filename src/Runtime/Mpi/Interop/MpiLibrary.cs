using System.Runtime.InteropServices;
using System.Text;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Finds, loads and classifies the MPI library at run time, as MPI.jl does: no compiling against
/// <c>mpi.h</c>. Order: <c>PYMPI_MPI_LIBRARY</c> if set; otherwise the implementation whose launcher
/// started us (Open MPI sets <c>OMPI_COMM_WORLD_SIZE</c>, MPICH's hydra sets <c>PMI_SIZE</c>) first,
/// Open MPI first when neither did. The ABI comes from <c>MPI_Get_library_version</c>, callable before Init.
/// </summary>
internal static unsafe class MpiLibrary
{
    public const string OverrideVariable = "PYMPI_MPI_LIBRARY";
    public static readonly string[] OpenMpiNames = ["libmpi.so.40", "libmpi.so"];
    public static readonly string[] MpichNames = ["libmpich.so.12", "libmpich.so"];

    private static readonly Lock s_lock = new();
    private static MpiAbiTable? s_abi;

    /// <summary>True once the library is loaded and <see cref="MpiNative"/> is bound.</summary>
    public static bool IsLoaded => s_abi is not null;
    /// <summary>Fast flag for the few places (Status parsing) that branch on the ABI per call.</summary>
    public static bool IsMpich { get; private set; }
    public static string LibraryPath { get; private set; } = "";
    public static string LibraryVersion { get; private set; } = "";

    /// <summary>The loaded ABI's table, loading the library on first use.</summary>
    public static MpiAbiTable Abi => s_abi ?? Load();

    /// <summary>Loads the MPI library once; throws <see cref="DllNotFoundException"/> saying what was tried and what to install.</summary>
    public static MpiAbiTable Load()
    {
        lock (s_lock)
        {
            if (s_abi is not null) return s_abi;
            var attempts = new List<string>();
            foreach (string candidate in Candidates(Environment.GetEnvironmentVariable))
            {
                nint handle = Libdl.OpenGlobal(candidate, out string? error);
                if (handle == 0)
                {
                    attempts.Add($"  {candidate}: {error ?? "no loader message"}");
                    continue;
                }
                string? version = ReadLibraryVersion(handle);
                if (version is null)
                {
                    attempts.Add($"  {candidate}: loaded, but it has no MPI_Get_library_version: not an MPI library");
                    continue;
                }
                MpiAbi? kind = Classify(version);
                if (kind is null)
                {
                    attempts.Add($"  {candidate}: loaded, but its MPI_Get_library_version is neither Open MPI nor MPICH: '{FirstLine(version)}'");
                    continue;
                }
                MpiNative.Bind(handle, candidate);
                var table = kind == MpiAbi.OpenMpi ? OpenMpiAbi.Create(handle, candidate) : MpichAbi.Create();
                IsMpich = kind == MpiAbi.Mpich;
                LibraryPath = candidate;
                LibraryVersion = version;
                s_abi = table;
                return table;
            }
            throw new DllNotFoundException(NotFoundMessage(attempts));
        }
    }

    /// <summary>Library names to try, in order, for the given environment.</summary>
    internal static IReadOnlyList<string> Candidates(Func<string, string?> getenv)
    {
        string? overridePath = getenv(OverrideVariable);
        if (!string.IsNullOrWhiteSpace(overridePath)) return [overridePath.Trim()];
        return DetectLauncher(getenv) == MpiAbi.Mpich
            ? [.. MpichNames, .. OpenMpiNames]
            : [.. OpenMpiNames, .. MpichNames];
    }

    /// <summary>Which implementation's launcher started this process, from the variables each sets; null when none.</summary>
    internal static MpiAbi? DetectLauncher(Func<string, string?> getenv)
    {
        if (getenv("OMPI_COMM_WORLD_SIZE") is not null) return MpiAbi.OpenMpi;
        if (getenv("PMI_SIZE") is not null || getenv("PMI_RANK") is not null) return MpiAbi.Mpich;
        return null;
    }

    /// <summary>Classifies a library version string; null when it is from an ABI we do not support.</summary>
    internal static MpiAbi? Classify(string libraryVersion)
    {
        if (libraryVersion.Contains("Open MPI", StringComparison.OrdinalIgnoreCase)) return MpiAbi.OpenMpi;
        // Intel MPI and MVAPICH are MPICH-derived and keep its ABI.
        foreach (string mpich in (ReadOnlySpan<string>)["MPICH", "Intel(R) MPI", "MVAPICH"])
            if (libraryVersion.Contains(mpich, StringComparison.OrdinalIgnoreCase)) return MpiAbi.Mpich;
        return null;
    }

    internal static string NotFoundMessage(IEnumerable<string> attempts) =>
        "No usable MPI library could be loaded. Tried:\n" + string.Join("\n", attempts) + "\n" +
        "Install one: 'apt-get install openmpi-bin libopenmpi-dev' (Open MPI) or 'apt-get install mpich libmpich-dev' (MPICH), " +
        $"or set {OverrideVariable} to the full path of libmpi.so.40 or libmpich.so.12.";

    private static string? ReadLibraryVersion(nint handle)
    {
        var getVersion = (delegate* unmanaged<byte*, int*, int>)Libdl.Symbol(handle, "MPI_Get_library_version");
        if (getVersion == null) return null;
        // Larger than MPI_MAX_LIBRARY_VERSION_STRING of both ABIs (Open MPI 256, MPICH 8192).
        byte[] buffer = new byte[16384];
        int length = 0;
        fixed (byte* p = buffer)
        {
            if (getVersion(p, &length) != 0) return "";
        }
        return Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).TrimEnd('\0', '\n', ' ');
    }

    private static string FirstLine(string s) => s.Split('\n')[0];
}
