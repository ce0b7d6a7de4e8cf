using PyMpiBridge.Examples.ParameterSweep;

namespace PyMpiBridge.Examples.ParallelSweep;

/// <summary>
/// The jobs the engines run. Weakly damped oscillators settle slowly (15/γ time units of RK4 steps, one job at a time):
/// loop-heavy work, done by a C# static method that each engine (a .NET process) loads from this assembly and calls
/// natively. Strongly damped ones settle fast and vectorize well: a numpy function integrates a whole row of drive
/// frequencies at once.
/// </summary>
public static class SweepKernels
{
    /// <summary>One job, natively on an engine: the simulated steady-state amplitude.</summary>
    public static double Amplitude(double damping, double drive) => Oscillator.SteadyStateAmplitude(damping, drive).Amplitude;

    /// <summary>
    /// A row of jobs (one damping, every drive frequency) in numpy: the same RK4 on a vector of oscillators. numpy pays
    /// per call, not per element, so it takes 5x larger steps than the C# jobs (RK4 at dt = 0.01 is still exact to
    /// about 1e-8 here).
    /// </summary>
    public const string NumpyRow = """
        import numpy as np

        def amplitude_row(damping, drives, natural=1.0, force=1.0, dt=0.01):
            drives = np.asarray(drives, dtype=float)
            settle = int(15.0 / damping / dt)
            measure = int((5 * 2 * np.pi / drives.min()) / dt)
            x = np.zeros_like(drives)
            v = np.zeros_like(drives)
            peak = np.zeros_like(drives)

            def acc(t, x, v):
                return force * np.cos(drives * t) - damping * v - natural * natural * x

            t = 0.0
            for i in range(settle + measure):
                k1x, k1v = v, acc(t, x, v)
                k2x, k2v = v + 0.5 * dt * k1v, acc(t + 0.5 * dt, x + 0.5 * dt * k1x, v + 0.5 * dt * k1v)
                k3x, k3v = v + 0.5 * dt * k2v, acc(t + 0.5 * dt, x + 0.5 * dt * k2x, v + 0.5 * dt * k2v)
                k4x, k4v = v + dt * k3v, acc(t + dt, x + dt * k3x, v + dt * k3v)
                x = x + dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
                v = v + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
                t += dt
                if i >= settle:
                    np.maximum(peak, np.abs(x), out=peak)
            return peak
        """;
}
