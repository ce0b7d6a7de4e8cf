using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace PyMpiBridge.Methods;

/// <summary>
/// The assemblies of C# methods that clients run on this process (an engine), found by path and identified by build
/// (module version id, MVID): a method token only means something in the build it came from. Each build gets a load
/// context of its own, so a rebuilt assembly at the same path loads beside the old one and its new code runs; the host's
/// own assemblies (PyMpiBridge.*, the framework) always come from the default context, so a method's <c>Comm</c> or
/// <c>PyBuffer&lt;T&gt;</c> parameter is the type the host converts.
/// </summary>
internal static class MethodAssemblies
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<Guid, Assembly> ByBuild = [];

    /// <summary>The static method <paramref name="token"/> of the build <paramref name="mvid"/> of the assembly at <paramref name="path"/>.</summary>
    public static MethodInfo StaticMethod(string path, string mvid, int token)
    {
        if (!Guid.TryParse(mvid, out var build)) throw new ArgumentException($"'{mvid}' is not a module version id");
        var assembly = Load(path, build);
        MethodBase? method;
        try { method = assembly.ManifestModule.ResolveMethod(token); }
        catch (ArgumentException) { method = null; }
        if (method is not MethodInfo { IsStatic: true } found)
            throw new MissingMethodException($"{assembly.GetName().Name} has no static method with token 0x{token:x8}");
        return found;
    }

    private static Assembly Load(string path, Guid build)
    {
        lock (Gate)
        {
            if (ByBuild.TryGetValue(build, out var known)) return known;
            foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies())
                if (!loaded.IsDynamic && loaded.ManifestModule.ModuleVersionId == build)
                    return ByBuild[build] = loaded; // one the host itself runs
            string full = Path.GetFullPath(path);
            if (!File.Exists(full))
                throw new FileNotFoundException(
                    $"this engine (host {Environment.MachineName}) cannot load the C# method's assembly: {full} does not exist here. " +
                    "Engines load the client's assembly from the same path: run them on the client's host, or copy the built assembly to that path on theirs.",
                    full);
            Guid onDisk = BuildOf(full);
            if (onDisk != build)
                throw new FileLoadException(
                    $"{full} on this engine is another build than the client's (module version {onDisk}, the client's is {build}): " +
                    "it was rebuilt after the client loaded it, or the engines see another copy. Restart the client after building, " +
                    "or give the engines the client's build.", full);
            var context = new MethodLoadContext(full, build);
            return ByBuild[build] = context.LoadFromAssemblyPath(full);
        }
    }

    private static Guid BuildOf(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) throw new BadImageFormatException($"{path} is not a .NET assembly", path);
        var metadata = pe.GetMetadataReader();
        return metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
    }

    /// <summary>One build of a method assembly and its own dependencies (found beside it, through its .deps.json when present).</summary>
    private sealed class MethodLoadContext(string path, Guid build) : AssemblyLoadContext($"csharp-methods {Path.GetFileName(path)} {build:N}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName name)
        {
            // the host's assemblies and the framework first: shared types must be the host's
            try { return Default.LoadFromAssemblyName(name); }
            catch (FileNotFoundException) { }
            return _resolver.ResolveAssemblyToPath(name) is { } dependency ? LoadFromAssemblyPath(dependency) : null;
        }

        protected override nint LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } native ? LoadUnmanagedDllFromPath(native) : 0;
    }
}
