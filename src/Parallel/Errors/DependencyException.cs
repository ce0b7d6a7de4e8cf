namespace PyMpiBridge.Parallel;

/// <summary>
/// A load-balanced task whose dependencies can never be met (ipyparallel's <c>ImpossibleDependency</c> and
/// <c>InvalidDependency</c>): a task it depends on failed (or succeeded when failure was required), every engine it
/// may run on is dead or already failed it, or it names a task this client does not know.
/// </summary>
public sealed class DependencyException(string message, bool invalid = false) : Exception(message)
{
    /// <summary>True when a dependency names a task this client never submitted (another client's, or a typo).</summary>
    public bool Invalid { get; } = invalid;
}
