using System.Text;

namespace PyMpiBridge.Python;

/// <summary>
/// No usable Python interpreter: the message lists every candidate tried, why each was rejected,
/// and how to fix it.
/// </summary>
public sealed class PythonNotFoundException : Exception
{
    /// <summary>Every candidate considered, in the order tried.</summary>
    public IReadOnlyList<PythonCandidate> Candidates { get; }

    /// <summary>Creates the exception from the candidates tried.</summary>
    public PythonNotFoundException(IReadOnlyList<PythonCandidate> candidates, string? headline = null)
        : base(Format(candidates, headline)) => Candidates = candidates;

    private static string Format(IReadOnlyList<PythonCandidate> candidates, string? headline)
    {
        var text = new StringBuilder(headline ?? "No usable Python interpreter found.");
        text.AppendLine().AppendLine("Tried:");
        if (candidates.Count == 0) text.AppendLine("  (no candidates)");
        foreach (var c in candidates)
            text.AppendLine($"  - {c.Path} [{c.Source}]: {c.RejectedBecause ?? "accepted"}");
        text.AppendLine("To fix: install a Python with its shared library and numpy (Debian: apt-get install libpython3-dev python3-numpy),");
        text.Append($"or set {PythonOptions.PythonEnvironmentVariable}=/path/to/python (a virtual environment's bin/python works), ")
            .Append("or name one explicitly (pympi --python PATH; PythonOptions.PythonExecutable from C#).");
        return text.ToString();
    }
}
