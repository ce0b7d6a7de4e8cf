using System.Text.RegularExpressions;

namespace PyMpiBridge.Mpi;

/// <summary>
/// Which MPI implementation a library is, read from its <c>MPI_Get_library_version</c> text (callable before Init), and
/// so which binary interface it has. MPICH's derivatives keep its ABI (the MPICH ABI compatibility initiative:
/// MPICH ≥ 3.1, Intel MPI ≥ 5.0, MVAPICH2 ≥ 2.0, Cray MPICH ≥ 7.0 share <c>libmpi.so.12</c>'s interface).
/// </summary>
/// <param name="Name">The implementation, e.g. "Intel MPI".</param>
/// <param name="Version">Its version as the text gives it, e.g. "2021.6"; empty when the text has none.</param>
/// <param name="Abi">Its binary interface.</param>
public sealed partial record MpiImplementation(string Name, string Version, MpiAbi Abi)
{
    // Marker in the version text → implementation. The first marker found wins: Cray's text also says "MPICH".
    private static readonly (string Marker, string Name, MpiAbi Abi)[] s_markers =
    [
        ("Open MPI", "Open MPI", MpiAbi.OpenMpi),
        ("CRAY MPICH", "Cray MPICH", MpiAbi.Mpich),
        ("Intel(R) MPI", "Intel MPI", MpiAbi.Mpich),
        ("MVAPICH", "MVAPICH", MpiAbi.Mpich),
        ("MPICH", "MPICH", MpiAbi.Mpich),
    ];

    /// <summary>The implementation a version text names; null when it is none whose ABI we support.</summary>
    public static MpiImplementation? Classify(string libraryVersion)
    {
        foreach (var (marker, name, abi) in s_markers)
        {
            int at = libraryVersion.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at < 0) continue;
            int end = libraryVersion.IndexOf('\n', at);
            var version = DottedNumber().Match(libraryVersion[(at + marker.Length)..(end < 0 ? libraryVersion.Length : end)]);
            return new MpiImplementation(name, version.Success ? version.Value : "", abi);
        }
        return null;
    }

    /// <summary>"MPICH 4.0.2".</summary>
    public override string ToString() => Version.Length == 0 ? Name : $"{Name} {Version}";

    [GeneratedRegex(@"\d+(\.\d+)+")]
    private static partial Regex DottedNumber();
}
