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

    /// <summary>Tag of the verdict messages (<see cref="TellVerdict"/>); no check sends anything else with it.</summary>
    private const int VerdictTag = 32_000;

    /// <summary>
    /// Tells <paramref name="sender"/> whether what it sent arrived intact: a sender cannot see that for itself, so its
    /// check passes or fails with the receiver's (<see cref="VerdictFrom"/>). Call it in a finally, so an exception on
    /// the receiver fails the sender too instead of leaving it waiting.
    /// </summary>
    public void TellVerdict(int sender, bool ok) => World.Send([ok ? 1 : 0], sender, VerdictTag);

    /// <summary>The verdict of <paramref name="receiver"/> on what this rank sent it (see <see cref="TellVerdict"/>).</summary>
    public (bool Ok, string Detail) VerdictFrom(int receiver)
    {
        Span<int> verdict = [-1];
        World.Recv(verdict, receiver, VerdictTag);
        return (verdict[0] == 1, $"rank {receiver} {(verdict[0] == 1 ? "received it intact" : "found it wrong")}");
    }

    /// <summary>
    /// <paramref name="judge"/>'s verdict, on every rank (a broadcast): for collectives whose result only the root can
    /// see, so the other ranks' lines pass or fail with it. <paramref name="ok"/> matters on the judge only.
    /// </summary>
    public bool ConfirmedBy(int judge, bool ok) => World.Bcast(ok ? 1 : 0, judge) == 1;

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
