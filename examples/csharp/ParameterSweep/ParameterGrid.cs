namespace PyMpiBridge.Examples.ParameterSweep;

/// <summary>The parameter space: damping γ × driving frequency ω, as numpy.linspace would make it. Job i ↔ (γ, ω).</summary>
public sealed class ParameterGrid(double[] dampings, double[] drives)
{
    public static ParameterGrid Default { get; } = new(Linspace(0.05, 0.5, 12), Linspace(0.5, 1.5, 24));

    public int Count => dampings.Length * drives.Length;

    public (double Damping, double Drive) this[int job] => (dampings[job / drives.Length], drives[job % drives.Length]);

    public string Describe() =>
        $"{dampings.Length} dampings γ ∈ [{dampings[0]}, {dampings[^1]}] × {drives.Length} drive frequencies ω ∈ [{drives[0]}, {drives[^1]}] = {Count} jobs";

    private static double[] Linspace(double from, double to, int n)
        => Enumerable.Range(0, n).Select(i => Math.Round(from + (to - from) * i / (n - 1), 4)).ToArray();
}
