using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Python;

/// <summary>Another embedding of the same interpreter in this process (pythonnet): how the two share it and end it.</summary>
public static partial class PythonEngine
{
    private static readonly List<(string Name, Action Shutdown)> s_coEmbeddings = [];
    private static bool s_endsAdoptedInterpreter;

    private static bool HasCoEmbeddings
    {
        get { lock (Gate) return s_coEmbeddings.Count > 0; }
    }

    /// <summary>
    /// Declares another embedding of this interpreter in the process (e.g. pythonnet), so that:
    /// <list type="bullet">
    /// <item>its threads may hold the GIL without our scopes: our blocking MPI calls then release it too (checked with
    /// <c>PyGILState_Check</c>, which only threads outside our scopes pay);</item>
    /// <item><see cref="Shutdown"/> calls <paramref name="shutdown"/> before the interpreter ends, after Python's exit work
    /// (non-daemon threads joined, atexit handlers, streams flushed) so that work can still call into it;</item>
    /// <item>when <paramref name="startedPython"/> (we adopted an interpreter it initialized, and it never finalizes
    /// Python, as pythonnet does not), our <see cref="Shutdown"/> does that exit work, which nothing else would do.</item>
    /// </list>
    /// <paramref name="shutdown"/> runs outside any GIL scope, on the thread calling <see cref="Shutdown"/>, and must take the
    /// GIL itself. Call this after <see cref="Initialize"/>.
    /// </summary>
    public static void AddCoEmbedding(string name, Action shutdown, bool startedPython)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shutdown);
        lock (Gate)
        {
            ThrowIfShutDown();
            if (_state != Running)
                throw new InvalidOperationException($"PythonEngine.Initialize() first: {name} can only share an interpreter that is running.");
            if (startedPython && !Interpreter!.Adopted)
                throw new InvalidOperationException($"{name} cannot have started Python: this process's interpreter was started by PyMpiBridge.");
            s_coEmbeddings.Add((name, shutdown));
            s_endsAdoptedInterpreter |= startedPython;
            GilState.ForeignHoldersPossible = true;
        }
        _logger?.LogDebug("{Name} shares this interpreter{Started}", name, startedPython ? " (it started Python)" : "");
    }

    /// <summary>Shuts the other embeddings down, the last declared first; one that fails does not stop the others.</summary>
    private static void ShutDownCoEmbeddings()
    {
        List<(string Name, Action Shutdown)> embeddings;
        lock (Gate)
        {
            embeddings = [.. s_coEmbeddings];
            s_coEmbeddings.Clear();
        }
        for (int i = embeddings.Count - 1; i >= 0; i--)
        {
            try { embeddings[i].Shutdown(); }
            catch (Exception e) { _logger?.LogWarning(e, "{Name} failed to shut down", embeddings[i].Name); }
        }
    }
}
