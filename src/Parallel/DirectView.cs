using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Work on chosen engines, as ipyparallel's <c>DirectView</c>: every call sends one task to each target and returns an
/// <see cref="AsyncResult"/> (await it, or <c>Get(timeout)</c>). Values cross as pickles; arrays of primitive numbers
/// arrive in the engines as numpy arrays and come back as .NET arrays, their bytes outside the pickle.
/// </summary>
public sealed partial class DirectView
{
    private readonly Client _client;
    private readonly IReadOnlyList<int>? _targets;

    internal DirectView(Client client, IReadOnlyList<int>? targets)
    {
        _client = client;
        _targets = targets;
    }

    /// <summary>The client this view sends through.</summary>
    internal Client Client => _client;

    /// <summary>The engines this view sends to now (all connected engines for <c>client[..]</c>).</summary>
    public IReadOnlyList<int> Targets => _client.ResolveTargets(_targets);

    /// <summary>Runs Python <paramref name="code"/> in every target's namespace. Not silent: each engine's last expression comes back.</summary>
    public AsyncResult<ExecuteReply?[]> ExecuteAsync(string code, bool silent = true)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(code);
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Execute, silent ? TaskHeaders.SilentFlag : (byte)0, targets, _ => [utf8],
            m => new AsyncResult<ExecuteReply?[]>(_client, "execute", m, targets, values => values.Cast<ExecuteReply?>().ToArray()));
    }

    /// <summary>Runs a Python file's code in every target's namespace (ipyparallel's <c>view.run</c>).</summary>
    public AsyncResult<ExecuteReply?[]> RunAsync(string path) => ExecuteAsync(File.ReadAllText(path));

    /// <summary>
    /// Imports <paramref name="modules"/> in every target's namespace, as <c>with view.sync_imports(): import ...</c>:
    /// each entry a module (<c>"numpy"</c>), a module with an alias (<c>"numpy as np"</c>) or a from-import
    /// (<c>"from math import sqrt, pi"</c>).
    /// </summary>
    public AsyncResult<ExecuteReply?[]> SyncImportsAsync(params string[] modules)
    {
        if (modules.Length == 0) throw new ArgumentException("name at least one module to import", nameof(modules));
        var lines = new List<string>();
        foreach (string m in modules)
        {
            string entry = m.Trim();
            if (!ImportEntry().IsMatch(entry))
                throw new ArgumentException($"'{m}' is not an import: write \"numpy\", \"numpy as np\" or \"from math import sqrt\"", nameof(modules));
            lines.Add(entry.StartsWith("from ", StringComparison.Ordinal) ? entry : "import " + entry);
        }
        return ExecuteAsync(string.Join('\n', lines));
    }

    [GeneratedRegex(@"^(from\s+[A-Za-z_][\w.]*\s+import\s+[A-Za-z_]\w*(\s+as\s+[A-Za-z_]\w*)?(\s*,\s*[A-Za-z_]\w*(\s+as\s+[A-Za-z_]\w*)?)*|[A-Za-z_][\w.]*(\s+as\s+[A-Za-z_]\w*)?)$")]
    private static partial Regex ImportEntry();

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> in every target's namespace.</summary>
    public AsyncResult PushAsync(string name, object? value) => PushAsync(new Dictionary<string, object?> { [name] = value });

    /// <summary>Sets every name of <paramref name="namespace"/> in every target's namespace.</summary>
    public AsyncResult PushAsync(IDictionary<string, object?> @namespace)
    {
        var payload = PickleWriter.Dumps(@namespace);
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Push, 0, targets, payload, m => new AsyncResult(_client, "push", m, targets));
    }

    /// <summary>The value of <paramref name="name"/> (or <c>a.b</c>) on each target, in target order.</summary>
    public AsyncMapResult<T> PullAsync<T>(string name)
    {
        var targets = Targets;
        if (EngineConverters.For(typeof(T)) is { } converter) // e.g. a pandas DataFrame taken apart on the engine
        {
            var function = PythonFunction.FromSource(converter.PullSource, converter.PullFunction);
            var call = TaskPayloads.Apply(function.Pickle(), [name]);
            return _client.SubmitDirect(TaskKind.Apply, 0, targets, _ => call,
                m => new AsyncMapResult<T>(_client, "pull", m, targets, Enumerable.Repeat(1, targets.Count).ToArray(), ordered: true,
                    (i, v) => [(T)converter.FromEngine(v)]));
        }
        var payload = PickleWriter.Dumps(name);
        return _client.SubmitDirect(TaskKind.Pull, 0, targets, _ => payload,
            m => PerEngine<T>("pull", m, targets, i => $"engine {targets[i]}: '{name}'"));
    }

    /// <summary>
    /// Splits <paramref name="values"/> over the targets as ipyparallel does (the first <c>len % n</c> engines get one
    /// more) and sets <paramref name="name"/> to each part; primitive parts arrive as numpy arrays, others as lists.
    /// </summary>
    public AsyncResult ScatterAsync<T>(string name, T[] values)
    {
        var targets = Targets;
        var blocks = Sequences.Blocks(values.Length, targets.Count);
        var payloads = blocks.Select(b => PickleWriter.Dumps(new Dictionary<string, object?> { [name] = values.AsSpan(b.Start, b.Count).ToArray() }))
            .ToList();
        return _client.SubmitDirect(TaskKind.Push, 0, targets, i => payloads[i], m => new AsyncResult(_client, "scatter", m, targets));
    }

    /// <summary>Pulls <paramref name="name"/> (a sequence) from every target and concatenates the parts in target order.</summary>
    public AsyncResult<T[]> GatherAsync<T>(string name)
    {
        var payload = PickleWriter.Dumps(name);
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Pull, 0, targets, _ => payload,
            m => new AsyncResult<T[]>(_client, "gather", m, targets, values =>
                values.SelectMany((v, i) => ValueConversion.To<T[]>(v, $"engine {targets[i]}: '{name}'")).ToArray()));
    }

    /// <summary>
    /// Calls the function <paramref name="functionName"/> that Python <paramref name="source"/> defines, on every
    /// target, with <paramref name="args"/>; one result per engine. The source is run in the engine's namespace when the
    /// function is loaded, so it sees what was pushed or imported there.
    /// </summary>
    public AsyncMapResult<T> ApplyAsync<T>(string source, string functionName, params object?[] args) =>
        ApplyAsync<T>(PythonFunction.FromSource(source, functionName), args);

    /// <summary>Calls <paramref name="functionName"/>, a function already defined in the engines' namespace, with <paramref name="args"/>.</summary>
    public AsyncMapResult<T> ApplyAsync<T>(string functionName, params object?[] args) =>
        ApplyAsync<T>(PythonFunction.Named(functionName), args);

    /// <summary>Calls <paramref name="function"/> on every target with <paramref name="args"/>; one result per engine, in target order.</summary>
    public AsyncMapResult<T> ApplyAsync<T>(PythonFunction function, params object?[] args)
    {
        var payload = TaskPayloads.Apply(function.Pickle(), args);
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Apply, 0, targets, payload,
            m => PerEngine<T>("apply", m, targets, i => $"engine {targets[i]}: {function.Name}(...)"));
    }

    /// <summary>
    /// Calls <paramref name="function"/> on every item (<c>f(a[i], b[i], ...)</c> for several sequences, cut to the
    /// shortest): the items are split into one contiguous block per target, as ipyparallel's <c>DirectView.map</c>.
    /// Results in input order; <c>await foreach</c> yields them as blocks finish.
    /// </summary>
    public AsyncMapResult<T> MapAsync<T>(PythonFunction function, params IList[] sequences) =>
        Map<T>(function.ChunkPickle(), function.Name, sequences);

    private AsyncMapResult<T> Map<T>(byte[] chunkFunction, string name, IList[] sequences)
    {
        int length = Sequences.CommonLength(sequences);
        var targets = Targets;
        var blocks = Sequences.Blocks(length, targets.Count).Where(b => b.Count > 0).ToArray();
        var used = targets.Take(blocks.Length).ToList();
        var payloads = TaskPayloads.MapChunks(chunkFunction, sequences, blocks);
        return _client.SubmitDirect(TaskKind.Apply, 0, used, i => payloads[i],
            m => new AsyncMapResult<T>(_client, "map", m, used, blocks.Select(b => b.Count).ToArray(), ordered: true,
                (i, v) => TaskPayloads.ChunkItems<T>(v, $"engine {used[i]}: {name}")));
    }

    /// <summary>
    /// Runs the C# static <paramref name="method"/> on every target with <paramref name="args"/> (a
    /// <see cref="Reference"/> passes an engine variable, <see cref="Reference.World"/> the engines' MPI world); one
    /// result per engine. The engines load its assembly from the same path, once per build, and call it natively.
    /// Lambdas and instance methods are refused: their state cannot travel.
    /// </summary>
    public AsyncMapResult<T> ApplyAsync<T>(Delegate method, params object?[] args) => ApplyAsync<T>(CSharpMethod.From(method), args);

    internal AsyncMapResult<T> ApplyAsync<T>(CSharpMethod m, params object?[] args)
    {
        var payload = TaskPayloads.Apply(m.Pickle(), args);
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Apply, 0, targets, payload,
            ids => PerEngine<T>("apply", ids, targets, i => $"engine {targets[i]}: {m.Name}(...)"));
    }

    /// <summary>
    /// Maps the C# static <paramref name="method"/> over <paramref name="items"/>, one contiguous block per target; each
    /// engine runs its block natively (a compiled loop, no Python per item). Results in input order.
    /// </summary>
    public AsyncMapResult<TResult> MapAsync<T1, TResult>(Func<T1, TResult> method, IList<T1> items) =>
        MapNative<TResult>(CSharpMethod.From(method), [TaskPayloads.AsList(items)]);

    /// <summary>Maps the C# static <paramref name="method"/> over pairs of items (cut to the shorter sequence).</summary>
    public AsyncMapResult<TResult> MapAsync<T1, T2, TResult>(Func<T1, T2, TResult> method, IList<T1> first, IList<T2> second) =>
        MapNative<TResult>(CSharpMethod.From(method), [TaskPayloads.AsList(first), TaskPayloads.AsList(second)]);

    private AsyncMapResult<T> MapNative<T>(CSharpMethod method, IList[] sequences) => Map<T>(method.MapPickle(), method.Name, sequences);

    /// <summary>Empties the targets' namespaces.</summary>
    public AsyncResult ClearAsync()
    {
        var targets = Targets;
        return _client.SubmitDirect(TaskKind.Clear, 0, targets, _ => [Array.Empty<byte>()], m => new AsyncResult(_client, "clear", m, targets));
    }

    private AsyncMapResult<T> PerEngine<T>(string method, IReadOnlyList<string> msgIds, IReadOnlyList<int> targets, Func<int, string> what) =>
        new(_client, method, msgIds, targets, Enumerable.Repeat(1, targets.Count).ToArray(), ordered: true,
            (i, v) => [ValueConversion.To<T>(v, what(i))]);

    public override string ToString() => $"<DirectView {(_targets is null ? "all" : string.Join(", ", _targets))}>";
}
