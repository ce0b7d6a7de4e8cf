using System.Runtime.CompilerServices;

namespace PyMpiBridge.Python;

/// <summary>
/// The short entry points: <c>using var gil = Py.Gil();</c>, <c>Py.Import("numpy")</c>, <c>Py.Exec(code)</c>.
/// Initializes the engine with default options on first use if <see cref="PythonEngine.Initialize"/> was not called.
/// </summary>
public static unsafe partial class Py
{
    /// <summary>Takes the GIL for this thread (reentrant). Dispose on the same thread; never hold it across await.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GilScope Gil() => GilState.Acquire();

    /// <summary>True when the calling thread holds the GIL through a scope (or is running a call from Python).</summary>
    public static bool IsGilHeld => GilState.IsHeld;

    /// <summary>
    /// Releases the GIL held by this thread until disposed, so Python threads and other .NET threads run while C#
    /// does long work. Throws when the thread does not hold the GIL.
    /// </summary>
    public static AllowThreadsScope AllowThreads() => new(requireGil: true);

    /// <summary>
    /// For blocking native calls (MPI waits, collective operations): releases the GIL if — and only if — this thread
    /// holds it, and takes it back on dispose. A no-op costing one thread-local read otherwise.
    /// <code>using (Py.ReleaseIfHeld()) { MPI_Wait(...); }</code>
    /// </summary>
    internal static AllowThreadsScope ReleaseIfHeld() => new(requireGil: false);
}
