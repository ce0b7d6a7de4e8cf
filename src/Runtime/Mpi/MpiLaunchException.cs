namespace PyMpiBridge.Mpi;

/// <summary>
/// The MPI library and the launcher that started this process do not fit together: the launcher started several ranks
/// and the library would run each alone, or the environment cannot tell which library could join them. The message says
/// what was seen and what to do (usually: set <see cref="LaunchEnvironment.LibraryVariable"/>).
/// </summary>
public sealed class MpiLaunchException(string message) : Exception(message);
