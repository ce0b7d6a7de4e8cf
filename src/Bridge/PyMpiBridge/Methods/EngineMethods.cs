using System.Collections.Concurrent;
using System.Reflection;
using PyMpiBridge.Python;

namespace PyMpiBridge.Methods;

/// <summary>
/// C# static methods as the functions of engine tasks (the parallel layer's C# client sends them): a task's pickled
/// function is <c>_pympibridge._static_method(path, mvid, token)</c> (the method itself, its arguments converted as for
/// any export: numpy arrays as <c>PyBuffer&lt;T&gt;</c> views, mpi4py communicators as <c>Comm</c>) or
/// <c>_pympibridge._static_map(path, mvid, token)</c> (the method mapped over a chunk's items, see <see cref="MapKernel"/>).
/// Both resolve the method once per process and hand out the same function afterwards.
/// </summary>
internal static class EngineMethods
{
    private static readonly ConcurrentDictionary<(string Mvid, int Token, bool Map), PyObject> Functions = new();
    private static int _count;

    public static void Register()
    {
        BridgeModule.ExportRaw("_static_method", args => Function(args, map: false),
            "_static_method(path, mvid, token): the C# static method <token> of the build <mvid> of the assembly at <path>, as a Python function (engine tasks).")
            .Dispose();
        BridgeModule.ExportRaw("_static_map", args => Function(args, map: true),
            "_static_map(path, mvid, token): a chunk runner mapping that C# static method over its columns (engine map tasks).")
            .Dispose();
    }

    /// <summary>A new reference to the function (the cached one stays here).</summary>
    private static NewReference Function(PyArguments args, bool map)
    {
        if (args.Count != 3) throw new ArgumentCountException($"{(map ? "_static_map" : "_static_method")}() takes (path, mvid, token)");
        return NewReference.FromBorrowed(Function(args.Get<string>(0), args.Get<string>(1), args.Get<int>(2), map).Borrow());
    }

    private static PyObject Function(string path, string mvid, int token, bool map)
    {
        if (Functions.TryGetValue((mvid, token, map), out var known)) return known;
        MethodInfo method = MethodAssemblies.StaticMethod(path, mvid, token);
        string name = $"_cs{Interlocked.Increment(ref _count)}_{(map ? "map_" : "")}{method.Name}";
        PyObject function = map
            ? BridgeModule.ExportRaw(name, new MapKernel(method).Run, $"{method.DeclaringType?.FullName}.{method.Name} mapped over a chunk")
            : BridgeModule.ExportMethod(name, method);
        Functions[(mvid, token, map)] = function;
        return function;
    }
}
