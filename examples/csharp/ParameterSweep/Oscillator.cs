namespace PyMpiBridge.Examples.ParameterSweep;

/// <summary>
/// The work per parameter set: a driven, damped oscillator x'' + γx' + ω0²x = F cos(ωt), integrated with
/// RK4 until the transient has died out (15/γ time units, e^-7.5 — so weakly damped jobs cost more, which
/// is why the job list is shuffled), then its steady-state amplitude is measured over a few periods.
/// The exact answer F / sqrt((ω0² − ω²)² + (γω)²) checks the numerics.
/// </summary>
public static class Oscillator
{
    public const double NaturalFrequency = 1.0;
    public const double Force = 1.0;
    private const double Dt = 0.002;

    /// <summary>Simulated steady-state amplitude and the number of RK4 steps it took.</summary>
    public static (double Amplitude, long Steps) SteadyStateAmplitude(double damping, double drive)
    {
        double settle = 15.0 / damping, measure = 5 * 2 * Math.PI / drive;
        long settleSteps = (long)(settle / Dt), measureSteps = (long)(measure / Dt);
        double t = 0, x = 0, v = 0, amplitude = 0;
        for (long i = 0; i < settleSteps + measureSteps; i++)
        {
            Step(ref t, ref x, ref v, damping, drive);
            if (i >= settleSteps) amplitude = Math.Max(amplitude, Math.Abs(x));
        }
        return (amplitude, settleSteps + measureSteps);
    }

    /// <summary>The analytic steady-state amplitude.</summary>
    public static double ExactAmplitude(double damping, double drive)
    {
        double w0 = NaturalFrequency;
        return Force / Math.Sqrt(Math.Pow(w0 * w0 - drive * drive, 2) + Math.Pow(damping * drive, 2));
    }

    private static void Step(ref double t, ref double x, ref double v, double g, double w)
    {
        static double A(double t, double x, double v, double g, double w) => Force * Math.Cos(w * t) - g * v - NaturalFrequency * NaturalFrequency * x;
        double k1x = v, k1v = A(t, x, v, g, w);
        double k2x = v + 0.5 * Dt * k1v, k2v = A(t + 0.5 * Dt, x + 0.5 * Dt * k1x, v + 0.5 * Dt * k1v, g, w);
        double k3x = v + 0.5 * Dt * k2v, k3v = A(t + 0.5 * Dt, x + 0.5 * Dt * k2x, v + 0.5 * Dt * k2v, g, w);
        double k4x = v + Dt * k3v, k4v = A(t + Dt, x + Dt * k3x, v + Dt * k3v, g, w);
        x += Dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x);
        v += Dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
        t += Dt;
    }
}
