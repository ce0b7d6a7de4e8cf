using System.Security.Cryptography;
using System.Text;
using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>
/// Work on chosen engines, as ipyparallel's <c>DirectView</c>: every call sends one task to each target and returns an
/// <see cref="AsyncResult"/> (await it, or <c>Get(timeout)</c>). Values cross as pickles; arrays of primitive numbers
/// arrive in the engines as numpy arrays and come back as .NET arrays, their bytes outside the pickle.
/// </summary>
public sealed class DirectView
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
        return _client.Submit(TaskKind.Execute, silent ? TaskHeaders.SilentFlag : (byte)0, Targets, _ => [utf8],
            (t, m) => new AsyncResult<ExecuteReply?[]>("execute", t, m, values => values.Cast<ExecuteReply?>().ToArray()));
    }

    /// <summary>Runs a Python file's code in every target's namespace (ipyparallel's <c>view.run</c>).</summary>
    public AsyncResult<ExecuteReply?[]> RunAsync(string path) => ExecuteAsync(File.ReadAllText(path));

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> in every target's namespace.</summary>
    public AsyncResult PushAsync(string name, object? value) => PushAsync(new Dictionary<string, object?> { [name] = value });

    /// <summary>Sets every name of <paramref name="namespace"/> in every target's namespace.</summary>
    public AsyncResult PushAsync(IDictionary<string, object?> @namespace)
    {
        var payload = PickleWriter.Dumps(@namespace);
        return _client.Submit(TaskKind.Push, 0, Targets, _ => payload, (t, m) => new AsyncResult("push", t, m));
    }

    /// <summary>The value of <paramref name="name"/> (or <c>a.b</c>) on each target, in target order.</summary>
    public AsyncResult<T[]> PullAsync<T>(string name)
    {
        if (EngineConverters.For(typeof(T)) is { } converter) // e.g. a pandas DataFrame taken apart on the engine
            return Apply(FunctionPickles.DefinedBy(converter.PullSource, converter.PullFunction), converter.PullFunction, [name],
                         (v, what) => (T)converter.FromEngine(v));
        var payload = PickleWriter.Dumps(name);
        return _client.Submit(TaskKind.Pull, 0, Targets, _ => payload,
            (t, m) => new AsyncResult<T[]>("pull", t, m, values =>
                values.Select((v, i) => ValueConversion.To<T>(v, $"engine {t[i]}: '{name}'")).ToArray()));
    }

    /// <summary>
    /// Splits <paramref name="values"/> over the targets as ipyparallel does (the first <c>len % n</c> engines get one
    /// more) and sets <paramref name="name"/> to each part; primitive parts arrive as numpy arrays, others as lists.
    /// </summary>
    public AsyncResult ScatterAsync<T>(string name, T[] values)
    {
        var targets = Targets;
        int n = targets.Count, q = values.Length / n, r = values.Length % n;
        var payloads = new List<FramePart>[n];
        for (int i = 0, start = 0; i < n; i++)
        {
            int count = q + (i < r ? 1 : 0);
            payloads[i] = PickleWriter.Dumps(new Dictionary<string, object?> { [name] = values.AsSpan(start, count).ToArray() });
            start += count;
        }
        return _client.Submit(TaskKind.Push, 0, targets, i => payloads[i], (t, m) => new AsyncResult("scatter", t, m));
    }

    /// <summary>Pulls <paramref name="name"/> (a sequence) from every target and concatenates the parts in target order.</summary>
    public AsyncResult<T[]> GatherAsync<T>(string name)
    {
        var payload = PickleWriter.Dumps(name);
        return _client.Submit(TaskKind.Pull, 0, Targets, _ => payload,
            (t, m) => new AsyncResult<T[]>("gather", t, m, values =>
                values.SelectMany((v, i) => ValueConversion.To<T[]>(v, $"engine {t[i]}: '{name}'")).ToArray()));
    }

    /// <summary>
    /// Calls the function <paramref name="functionName"/> that Python <paramref name="source"/> defines, on every
    /// target, with <paramref name="args"/>; one result per engine. The source is run in the engine's namespace when the
    /// function is loaded (once per distinct source), so it sees what was pushed or imported there.
    /// </summary>
    public AsyncResult<T[]> ApplyAsync<T>(string source, string functionName, params object?[] args) =>
        Apply<T>(FunctionPickles.DefinedBy(source, functionName), functionName, args);

    /// <summary>Calls <paramref name="functionName"/>, a function already defined in the engines' namespace, with <paramref name="args"/>.</summary>
    public AsyncResult<T[]> ApplyAsync<T>(string functionName, params object?[] args) =>
        Apply<T>(FunctionPickles.ByName(functionName), functionName, args);

    private AsyncResult<T[]> Apply<T>(byte[] function, string name, object?[] args, Func<object?, string, T>? convert = null)
    {
        convert ??= ValueConversion.To<T>;
        var arguments = PickleWriter.Dumps(new PythonTuple(new PythonTuple(args), new Dictionary<string, object?>()));
        var payload = new List<FramePart>(arguments.Count + 1) { function };
        payload.AddRange(arguments);
        return _client.Submit(TaskKind.Apply, 0, Targets, _ => payload,
            (t, m) => new AsyncResult<T[]>("apply", t, m, values =>
                values.Select((v, i) => convert(v, $"engine {t[i]}: {name}(...)")).ToArray()));
    }

    /// <summary>Empties the targets' namespaces.</summary>
    public AsyncResult ClearAsync() =>
        _client.Submit(TaskKind.Clear, 0, Targets, _ => [Array.Empty<byte>()], (t, m) => new AsyncResult("clear", t, m));

    public override string ToString() => $"<DirectView {(_targets is null ? "all" : string.Join(", ", _targets))}>";
}

/// <summary>
/// Pickles of the function an apply task calls, resolved in the engine's <c>__main__</c> (its user namespace).
/// The engine keeps functions by their pickle's bytes; so that a redefined function is never served from that cache,
/// a call by name carries a fresh nonce (pushed and popped: no effect on the value), and a definition carries its
/// source (the same bytes mean the same function).
/// </summary>
internal static class FunctionPickles
{
    /// <summary><c>__main__.name</c>, looked up when the task runs.</summary>
    public static byte[] ByName(string name)
    {
        Validate(name);
        var p = new PickleText();
        p.String(Convert.ToHexString(RandomNumberGenerator.GetBytes(8))).Op(Opcodes.Pop);
        p.String("__main__").String(name).Op(Opcodes.StackGlobal);
        return p.Stop();
    }

    /// <summary>
    /// <c>exec(source, vars(__main__))</c>, then <c>getattr(__main__, name)</c>: the function <paramref name="source"/>
    /// defines, defined in the engine's namespace when the task's function is loaded.
    /// </summary>
    public static byte[] DefinedBy(string source, string name)
    {
        Validate(name);
        var p = new PickleText();
        // M = importlib.import_module('__main__'), kept in memo 0
        p.String("importlib").String("import_module").Op(Opcodes.StackGlobal).String("__main__").Op(Opcodes.Tuple1)
            .Op(Opcodes.Reduce).Op(Opcodes.Memoize).Op(Opcodes.Pop);
        // exec(source, vars(M)); its None dropped
        p.String("builtins").String("exec").Op(Opcodes.StackGlobal).String(source)
            .String("builtins").String("vars").Op(Opcodes.StackGlobal).Get(0).Op(Opcodes.Tuple1).Op(Opcodes.Reduce)
            .Op(Opcodes.Tuple2).Op(Opcodes.Reduce).Op(Opcodes.Pop);
        // getattr(M, name)
        p.String("builtins").String("getattr").Op(Opcodes.StackGlobal).Get(0).String(name).Op(Opcodes.Tuple2).Op(Opcodes.Reduce);
        return p.Stop();
    }

    private static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.') || !(char.IsLetter(name[0]) || name[0] == '_') ||
            !name.All(c => char.IsLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"'{name}' is not a Python function name (an identifier defined in the engines' namespace)");
    }

    /// <summary>A few opcodes written by hand.</summary>
    private sealed class PickleText
    {
        private readonly MemoryStream _out = new();

        public PickleText()
        {
            _out.WriteByte(Opcodes.Proto);
            _out.WriteByte(5);
        }

        public PickleText Op(byte op)
        {
            _out.WriteByte(op);
            return this;
        }

        public PickleText String(string s)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(s);
            _out.WriteByte(Opcodes.BinUnicode);
            _out.Write(BitConverter.GetBytes(utf8.Length));
            _out.Write(utf8);
            return this;
        }

        public PickleText Get(byte memo)
        {
            _out.WriteByte(Opcodes.BinGet);
            _out.WriteByte(memo);
            return this;
        }

        public byte[] Stop()
        {
            _out.WriteByte(Opcodes.Stop);
            return _out.ToArray();
        }
    }
}
