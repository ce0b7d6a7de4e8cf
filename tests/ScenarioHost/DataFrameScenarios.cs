using Microsoft.Data.Analysis;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Messaging;
using PyMpiBridge.Python;
using static PyMpiBridge.ScenarioHost.BridgeScenarios;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// DataFrames between the languages: an exported C# function taking and returning a DataFrame called from Python in
/// every rank, then rank 0 (C#) and the other ranks (Python, mpi4py's lowercase messages) trading frames with
/// send/recv and bcast in both directions.
/// </summary>
internal static class DataFrameScenarios
{
    private const int BigRows = 1 << 20;

    public static void Register(ScenarioRegistry add) => add("dataframe-cross-rank", WithSession(CrossRank), initializeMpi: false);

    /// <summary>Every kind of column, with missing values: what the messages carry.</summary>
    private static DataFrame Mixed(int rank) => new(
        new Int64DataFrameColumn("id", Enumerable.Range(0, 5).Select(i => (long)(i + 10 * rank))),
        new DoubleDataFrameColumn("x", Enumerable.Range(0, 5).Select(i => i * 0.5)),
        new Int32DataFrameColumn("k", new int?[] { 1, null, 3, null, 5 }),
        new BooleanDataFrameColumn("flag", new bool?[] { true, false, null, true, false }),
        new DateTimeDataFrameColumn("t", Enumerable.Range(0, 5).Select(i => (DateTime?)new DateTime(2024, 3, 1).AddHours(i))),
        new StringDataFrameColumn("name", ["a", "bb", null, "dd", "é😀"]));

    /// <summary>1 Mi rows of two float64 columns: 16 MiB of numbers, which must travel as raw bytes.</summary>
    private static DataFrame Big() => new(
        new DoubleDataFrameColumn("u", Enumerable.Range(0, BigRows).Select(i => (double)i)),
        new DoubleDataFrameColumn("v", Enumerable.Range(0, BigRows).Select(i => -0.5 * i)));

    private static void CrossRank(ScenarioContext c, RankSession session)
    {
        InRank(c, session);
        if (session.Rank == 0) CSharpRank(c, session);
        else PythonRank(c, session);
    }

    /// <summary>Python hands a pandas DataFrame to a C# function taking a DataFrame and gets one back.</summary>
    private static void InRank(ScenarioContext c, RankSession session)
    {
        session.Export("frame_totals", (DataFrame frame) =>
        {
            var x = (DoubleDataFrameColumn)frame.Columns["x"];
            return new DataFrame(new StringDataFrameColumn("column", ["x"]), new DoubleDataFrameColumn("sum", [Convert.ToDouble(x.Sum())]),
                                 new Int64DataFrameColumn("nulls", [frame.Columns["k"].NullCount]));
        });
        using var gil = Py.Gil();
        using var ns = Run("""
            import numpy as np, pandas as pd
            from pympibridge import csharp
            df = pd.DataFrame({'x': np.arange(10.0), 'k': pd.array([1, None, 3, None, 5, 6, 7, 8, 9, None], dtype='Int32')})
            out = csharp.frame_totals(df)
            call_ok = (isinstance(out, pd.DataFrame) and out['column'].tolist() == ['x'] and out['sum'].tolist() == [45.0]
                       and out['nulls'].tolist() == [3])
            try:
                csharp.frame_totals(pd.DataFrame({'x': [1.0, 2.0], 'k': [1, 'two']}))
                error = 'no error'
            except TypeError as e:
                error = str(e)
            """);
        c.Check("exported function takes and returns a DataFrame", Get<bool>(ns, "call_ok"), ns["out"].ToString());
        string error = Get<string>(ns, "error");
        c.Check("bad frame raises TypeError naming the column", error.Contains("column 'k'") && error.Contains("int, str"), error);
    }

    private static void CSharpRank(ScenarioContext c, RankSession session)
    {
        var world = session.World;
        var mixed = Mixed(0);
        var big = Big();
        var verdicts = new List<string>();
        bool fromPythonOk = true;
        for (int r = 1; r < world.Size; r++)
        {
            world.SendObject(mixed, r, 20);
            world.SendObject(big, r, 21);
            DataFrame reply = world.RecvObject<DataFrame>(r, 22);
            // The Python rank grouped our rows by flag and sends totals, a nullable count and its rank's strings.
            fromPythonOk &= reply.Columns.Select(col => col.Name).SequenceEqual(["flag", "x_sum", "k_count", "label", "when"])
                && reply.Columns["flag"].Cast<bool?>().SequenceEqual([false, true])
                && reply.Columns["x_sum"].Cast<double?>().SequenceEqual([2.5, 1.5])
                && reply.Columns["k_count"].Cast<long?>().SequenceEqual([1, null])
                && reply.Columns["label"].Cast<string?>().SequenceEqual([$"rank {r}", null])
                && reply.Columns["when"].Cast<DateTime?>().SequenceEqual([new DateTime(2024, 3, 1, 4, 0, 0), null]);
            verdicts.Add(world.RecvObject<string>(r, 23));
        }
        c.Check("dataframe csharp to python", verdicts.All(v => v == "ok"), string.Join("; ", verdicts));
        c.Check("dataframe python to csharp", fromPythonOk);

        var mine = (DataFrame)world.BcastObject(mixed, root: 0)!;
        bool bcastOk = Same(mine, mixed);
        var theirs = (DataFrame)world.BcastObject(null, root: 1)!;
        bcastOk &= theirs.Columns["rank"].Cast<long>().SequenceEqual([1L, 1, 1]) && theirs.Columns["s"].Cast<string?>().SequenceEqual(["p", null, "q"]);
        c.Check("bcast dataframe both ways", bcastOk, theirs.ToString());
        world.BcastObject(fromPythonOk && bcastOk ? "ok" : "C# rank found a difference", root: 0);
    }

    private static bool Same(DataFrame a, DataFrame b) =>
        a.Columns.Count == b.Columns.Count && a.Columns.Zip(b.Columns).All(p =>
            p.First.Name == p.Second.Name && p.First.DataType == p.Second.DataType && p.First.Cast<object?>().SequenceEqual(p.Second.Cast<object?>()));

    private static void PythonRank(ScenarioContext c, RankSession session)
    {
        using var gil = Py.Gil();
        using var ns = Run("""
            import numpy as np, pandas as pd
            from mpi4py import MPI
            from pympibridge import world as comm
            df = comm.recv(source=0, tag=20)
            problems = []
            if not isinstance(df, pd.DataFrame): problems.append(f'got {type(df)}')
            else:
                dtypes = [str(t) for t in df.dtypes]
                if dtypes != ['int64', 'float64', 'Int32', 'boolean', 'datetime64[ns]', 'object']: problems.append(f'dtypes {dtypes}')
                if df['k'].isna().tolist() != [False, True, False, True, False]: problems.append('k nulls')
                if df['name'].tolist() != ['a', 'bb', None, 'dd', 'é😀']: problems.append(f"names {df['name'].tolist()}")
                if df['t'].iloc[4] != pd.Timestamp('2024-03-01 04:00'): problems.append('t')
                df['x'].values[0] = 0.0  # arrives writable, like any unpickled frame (a read-only block would raise)
            status = MPI.Status()
            comm.probe(source=0, tag=21, status=status)
            size = status.Get_count(MPI.BYTE)
            big = comm.recv(source=0, tag=21)
            raw = 2 * 8 * BIG_ROWS
            if not raw <= size < raw + 4096: problems.append(f'the big frame took {size} bytes for {raw} bytes of numbers')
            if not (big['u'].sum() == BIG_ROWS * (BIG_ROWS - 1) / 2 and big['v'].iloc[-1] == -0.5 * (BIG_ROWS - 1)): problems.append('big values')

            g = df.groupby('flag').agg(x_sum=('x', 'sum'), k_count=('k', 'count'))
            g['k_count'] = pd.array([1, None], dtype='Int64')
            g['label'] = [f'rank {comm.rank}', None]
            g['when'] = pd.to_datetime(['2024-03-01 04:00', None])
            comm.send(g, dest=0, tag=22)   # its index (flag) becomes the first column in C#
            comm.send('ok' if not problems else '; '.join(problems), dest=0, tag=23)

            mine = comm.bcast(None, root=0)
            bcast_ok = isinstance(mine, pd.DataFrame) and mine['id'].tolist() == [0, 1, 2, 3, 4] and mine['k'].isna().sum() == 2
            theirs = comm.bcast(pd.DataFrame({'rank': [comm.rank] * 3, 's': ['p', None, 'q']}) if comm.rank == 1 else None, root=1)
            bcast_ok = bcast_ok and isinstance(theirs, pd.DataFrame) and theirs['rank'].tolist() == [1, 1, 1]
            csharp_verdict = comm.bcast(None, root=0)
            """, ("BIG_ROWS", BigRows));
        string problems = string.Join("; ", ns["problems"].As<List<string>>());
        c.Check("dataframe csharp to python", problems.Length == 0, problems);
        c.Check("dataframe python to csharp", Get<string>(ns, "csharp_verdict") == "ok", Get<string>(ns, "csharp_verdict"));
        c.Check("bcast dataframe both ways", Get<bool>(ns, "bcast_ok"));
    }
}
