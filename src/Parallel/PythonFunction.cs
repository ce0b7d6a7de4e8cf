using System.Security.Cryptography;
using PyMpiBridge.Parallel.Pickling;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A Python function to run on engines, resolved in the engine's <c>__main__</c> (its user namespace, where pushed
/// values and imports live): <see cref="FromSource"/> defines it from Python source when the task loads its function,
/// <see cref="Named"/> calls one already defined there (by <c>Execute</c>, <c>Run</c> or an earlier definition).
/// </summary>
public sealed class PythonFunction
{
    private readonly string? _source;

    private PythonFunction(string name, string? source)
    {
        if (string.IsNullOrEmpty(name) || !(char.IsLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"'{name}' is not a Python function name (an identifier defined in the engines' namespace)", nameof(name));
        Name = name;
        _source = source;
    }

    /// <summary>The function's name in the engine's namespace.</summary>
    public string Name { get; }

    /// <summary>
    /// The function <paramref name="name"/> that Python <paramref name="source"/> defines. The source runs in the
    /// engine's namespace each time a task loads it, so a changed source is a new definition.
    /// </summary>
    public static PythonFunction FromSource(string source, string name) =>
        new(name, source ?? throw new ArgumentNullException(nameof(source)));

    /// <summary><c>__main__.name</c> on the engine, looked up when the task runs.</summary>
    public static PythonFunction Named(string name) => new(name, null);

    /// <summary>
    /// The pickle of the function a task calls. A call by name carries a fresh nonce (pushed and popped: no effect on
    /// the value), so the engine's function cache never serves an older definition; a definition carries its source.
    /// </summary>
    internal byte[] Pickle() => Write(new PickleCode()).Stop();

    /// <summary>The pickle of ipyparallel's map chunk runner <c>_Chunk(f)</c>: calls f on every item of its columns.</summary>
    internal byte[] ChunkPickle() => MapChunk.Pickle(this);

    internal PickleCode Write(PickleCode p)
    {
        if (_source is null)
        {
            p.String(Convert.ToHexString(RandomNumberGenerator.GetBytes(8))).Op(Opcodes.Pop);
            return p.Global("__main__", Name);
        }
        // M = importlib.import_module('__main__'), kept in memo 0
        p.Global("importlib", "import_module").String("__main__").Op(Opcodes.Tuple1).Op(Opcodes.Reduce).Op(Opcodes.Memoize).Op(Opcodes.Pop);
        // exec(source, vars(M)); its None dropped
        p.Global("builtins", "exec").String(_source)
            .Global("builtins", "vars").Get(0).Op(Opcodes.Tuple1).Op(Opcodes.Reduce)
            .Op(Opcodes.Tuple2).Op(Opcodes.Reduce).Op(Opcodes.Pop);
        // getattr(M, name)
        return p.Global("builtins", "getattr").Get(0).String(Name).Op(Opcodes.Tuple2).Op(Opcodes.Reduce);
    }

    public override string ToString() => _source is null ? $"<Python function {Name}>" : $"<Python function {Name} (from source)>";
}

/// <summary>
/// <c>pympibridge.parallel.view._Chunk(f)</c>, the engine-side runner of one chunk of a map: called with the chunk's
/// columns, it returns <c>[f(*items) for items in zip(*columns)]</c>. Pickled as Python pickles it: the class, NEWOBJ,
/// then its state <c>{"f": f}</c>.
/// </summary>
internal static class MapChunk
{
    public static byte[] Pickle(PythonFunction f)
    {
        var p = new PickleCode();
        // memo 0 is the function's own (PythonFunction.Write); the runner takes none
        p.Global("pympibridge.parallel.view", "_Chunk").Op(Opcodes.EmptyTuple).Op(Opcodes.NewObj);
        p.Op(Opcodes.EmptyDict).String("f");
        f.Write(p);
        return p.Op(Opcodes.SetItem).Op(Opcodes.Build).Stop();
    }
}
