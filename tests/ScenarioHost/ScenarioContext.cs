using PyMpiBridge.Mpi;

namespace PyMpiBridge.ScenarioHost;

/// <summary>Prints one result line per check for this rank.</summary>
public sealed class ScenarioContext(int rank)
{
    public int Rank { get; } = rank;
    public int Failures { get; private set; }
    public Comm World => Comm.World;
    public int Size => Comm.World.Size;

    /// <summary>Prints <c>rank R: check ok detail</c> when <paramref name="ok"/>, else a FAIL line.</summary>
    public void Check(string check, bool ok, string detail = "")
    {
        if (!ok) Failures++;
        WriteLine($"rank {Rank}: {check} {(ok ? "ok" : "FAIL")} {Program.OneLine(detail)}".TrimEnd());
    }

    private static readonly Stream s_stdout = Console.OpenStandardOutput();

    /// <summary>
    /// Writes one whole line with a single write(2): mpiexec forwards every rank's output through one pipe,
    /// and a line split over several writes can be interleaved with another rank's line.
    /// </summary>
    public static void WriteLine(string line)
    {
        if (line.Length > 1500) line = line[..1500] + "...";
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
        lock (s_stdout) s_stdout.Write(bytes);
    }

    public void Ok(string check, string detail = "") => Check(check, true, detail);

    /// <summary>Runs <paramref name="action"/> expecting <typeparamref name="TException"/>; prints its message as detail.</summary>
    public void Expect<TException>(string check, Action action, Func<TException, bool>? predicate = null) where TException : Exception
    {
        try
        {
            action();
            Check(check, false, $"no exception (expected {typeof(TException).Name})");
        }
        catch (TException e)
        {
            bool ok = e.GetType() == typeof(TException) || typeof(TException) == typeof(Exception) || e.GetType().IsSubclassOf(typeof(TException));
            ok &= predicate?.Invoke(e) ?? true;
            Check(check, ok, $"{e.GetType().Name}: {e.Message}");
        }
        catch (Exception e)
        {
            Check(check, false, $"wrong exception {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Runs a check body; an exception becomes a FAIL line instead of ending the scenario.</summary>
    public void Run(string check, Func<(bool Ok, string Detail)> body)
    {
        try
        {
            var (ok, detail) = body();
            Check(check, ok, detail);
        }
        catch (Exception e)
        {
            Check(check, false, $"{e.GetType().Name}: {e.Message}");
        }
    }
}
