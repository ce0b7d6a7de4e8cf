using System.Runtime.InteropServices;
using System.Text;
using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Finds, loads and classifies the MPI library at run time, as MPI.jl does: no compiling against <c>mpi.h</c>. Order:
/// <c>PYMPI_MPI_LIBRARY</c> if set (a path or a soname: the way to Intel MPI, MVAPICH, Cray MPICH); otherwise the
/// library whose protocol the launcher speaks first (<see cref="LaunchEnvironment"/>), Open MPI first when no launcher
/// says. The implementation and ABI come from <c>MPI_Get_library_version</c>, callable before Init.
/// </summary>
internal static unsafe class MpiLibrary
{
    public const string OverrideVariable = LaunchEnvironment.LibraryVariable;
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
    /// <summary>The loaded library's implementation, from its version text.</summary>
    public static MpiImplementation? Implementation { get; private set; }
    /// <summary>What launched this process, as read when the library was loaded.</summary>
    public static LaunchEnvironment Launch { get; private set; } = LaunchEnvironment.Detect(new Dictionary<string, string>());
    /// <summary>How the library was chosen, for messages: the override variable, or the launcher.</summary>
    public static string ChosenBy { get; private set; } = "";

    /// <summary>The loaded ABI's table, loading the library on first use.</summary>
    public static MpiAbiTable Abi => s_abi ?? Load();

    /// <summary>
    /// Loads the MPI library once; throws <see cref="DllNotFoundException"/> saying what was tried and what to install, or
    /// <see cref="MpiLaunchException"/> when the launcher's environment cannot tell which library would work.
    /// </summary>
    public static MpiAbiTable Load()
    {
        lock (s_lock)
        {
            if (s_abi is not null) return s_abi;
            var launch = LaunchEnvironment.Current;
            string? overridePath = Environment.GetEnvironmentVariable(OverrideVariable);
            var attempts = new List<string>();
            foreach (string candidate in Candidates(launch, overridePath))
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
                var implementation = MpiImplementation.Classify(version);
                if (implementation is null)
                {
                    attempts.Add($"  {candidate}: loaded, but its MPI_Get_library_version names neither Open MPI nor an MPICH-ABI " +
                                 $"MPI (MPICH, Intel MPI, MVAPICH, Cray MPICH): '{FirstLine(version)}'");
                    continue;
                }
                MpiNative.Bind(handle, candidate);
                var table = implementation.Abi == MpiAbi.OpenMpi ? OpenMpiAbi.Create(handle, candidate) : MpichAbi.Create();
                IsMpich = implementation.Abi == MpiAbi.Mpich;
                LibraryPath = candidate;
                LibraryVersion = version;
                Implementation = implementation;
                Launch = launch;
                ChosenBy = !string.IsNullOrWhiteSpace(overridePath) ? OverrideVariable
                    : launch.PreferredAbi is null ? "the default order (Open MPI, then MPICH)" : $"the launcher, {launch.Launcher}";
                s_abi = table;
                return table;
            }
            throw new DllNotFoundException(NotFoundMessage(attempts, overridePath));
        }
    }

    /// <summary>
    /// Library names to try, in order: the override alone when set; else the sonames of the ABI the launcher serves first.
    /// Throws <see cref="MpiLaunchException"/> when the launcher's environment rules out every library we would find.
    /// </summary>
    internal static IReadOnlyList<string> Candidates(LaunchEnvironment launch, string? overridePath)
    {
        if (!string.IsNullOrWhiteSpace(overridePath)) return [overridePath.Trim()];
        if (launch.Undecidable is { } why) throw new MpiLaunchException(why);
        return launch.PreferredAbi == MpiAbi.Mpich
            ? [.. MpichNames, .. OpenMpiNames]
            : [.. OpenMpiNames, .. MpichNames];
    }

    internal static string NotFoundMessage(IEnumerable<string> attempts, string? overridePath = null)
    {
        string tried = string.Join("\n", attempts);
        const string install = "Install one: 'apt-get install openmpi-bin libopenmpi-dev' (Open MPI) or 'apt-get install mpich libmpich-dev' (MPICH)";
        if (string.IsNullOrWhiteSpace(overridePath))
            return $"No usable MPI library could be loaded. Tried:\n{tried}\n{install}, or set {OverrideVariable} to the full path " +
                   "of libmpi.so.40, libmpich.so.12 or another MPICH-ABI library.";
        return $"{OverrideVariable}={overridePath.Trim()} could not be used as the MPI library:\n{tried}\n" +
               "Set it to the full path (or a soname the loader finds) of an Open MPI or MPICH-ABI library, e.g. Intel MPI's " +
               ".../lib/release/libmpi.so.12, MVAPICH's libmpi.so.12, Cray MPICH's libmpi_cray.so.12; or unset it to use " +
               $"libmpi.so.40 (Open MPI) or libmpich.so.12 (MPICH). {install}.";
    }

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
