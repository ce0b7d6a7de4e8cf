using System.Reflection;
using PyMpiBridge.Parallel.Pickling;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A C# static method to run on engines. Engines are .NET processes: each loads the method's assembly from the same
/// path (once per build) and calls the method natively, its arguments converted as for a <c>[PythonExport]</c> function
/// (numpy arrays as <c>PyBuffer&lt;T&gt;</c> views or arrays, mpi4py communicators as <c>Comm</c>, numbers, strings).
/// Only static methods travel: a lambda or an instance method would need its object or captured variables on the engine.
/// </summary>
/// <param name="AssemblyPath">Where the engines load the method's assembly from.</param>
/// <param name="Build">The module version id of the assembly's build: the engine refuses another build.</param>
/// <param name="Token">The method's metadata token in that build.</param>
/// <param name="Name"><c>Type.Method</c>, for messages.</param>
internal sealed record CSharpMethod(string AssemblyPath, Guid Build, int Token, string Name)
{
    /// <summary>The static method behind <paramref name="method"/>; refuses anything an engine could not run on its own.</summary>
    public static CSharpMethod From(Delegate method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.GetInvocationList().Length > 1)
            throw new ArgumentException("a multicast delegate cannot run on engines: pass one static method", nameof(method));
        return From(method.Method, method.Target);
    }

    internal static CSharpMethod From(MethodInfo info, object? target)
    {
        string name = $"{info.DeclaringType?.Name}.{info.Name}";
        if (target is not null || !info.IsStatic)
            throw new ArgumentException(
                $"{name} is a lambda or an instance method: it captures state (an object, or variables around it) that cannot " +
                "travel to the engines. Use a static method (e.g. 'static double Square(double x) => x * x;' in a public static " +
                "class) and pass it by name: view.MapAsync(Kernels.Square, data)", "method");
        if (info.IsGenericMethod || info.DeclaringType is { ContainsGenericParameters: true } || info.DeclaringType?.IsGenericType == true)
            throw new ArgumentException($"{name} is generic: engines run non-generic static methods (write one per element type)", "method");
        var assembly = info.Module.Assembly;
        if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location))
            throw new ArgumentException(
                $"{name} comes from an assembly with no file ({assembly.GetName().Name}: dynamic, loaded from bytes, or bundled in a " +
                "single-file app): engines load methods from the assembly's .dll, so build it as a library and reference it", "method");
        return new CSharpMethod(assembly.Location, info.Module.ModuleVersionId, info.MetadataToken, name);
    }

    /// <summary><c>_pympibridge._static_method(path, mvid, token)</c>: the method as the engine's Python function.</summary>
    public byte[] Pickle() => Call("_static_method");

    /// <summary><c>_pympibridge._static_map(path, mvid, token)</c>: the method mapped natively over a chunk's columns.</summary>
    public byte[] MapPickle() => Call("_static_map");

    private byte[] Call(string function) =>
        new PickleCode().Global("_pympibridge", function).String(AssemblyPath).String(Build.ToString("N")).Int(Token)
            .Op(Opcodes.Tuple3).Op(Opcodes.Reduce).Stop();

    public override string ToString() => $"<C# method {Name} ({Path.GetFileName(AssemblyPath)})>";
}
