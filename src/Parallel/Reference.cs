namespace PyMpiBridge.Parallel;

/// <summary>
/// An argument resolved on the engine when the task runs (ipyparallel's <c>Reference</c>): <c>new Reference("u")</c> is the
/// engine's variable <c>u</c> (pushed or computed there earlier; also <c>"a.b"</c>, <c>"g[0]"</c>: the expression is
/// evaluated in the engine's namespace), <see cref="World"/> the engines' MPI world. Nothing of the value travels.
/// </summary>
public sealed class Reference
{
    public Reference(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        Expression = expression;
    }

    /// <summary>The Python expression evaluated in the engine's namespace.</summary>
    public string Expression { get; }

    /// <summary>
    /// The engines' MPI world (<c>pympibridge.world</c>, mpi4py's <c>COMM_WORLD</c> of the engines): a C# method's
    /// <c>Comm</c> parameter receives it as the engine's <c>Comm.World</c>.
    /// </summary>
    public static Reference World { get; } = new("__import__('pympibridge').world");

    public override string ToString() => $"<Reference {Expression}>";
}
