using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace PyMpiBridge.Sharing;

/// <summary>
/// Assemblies that add conversions to the bridge without the core depending on their packages: when one is deployed
/// with the program (a project reference copies it beside the program's assembly), the rank session, <c>csharp.load</c>
/// and the parallel client load it, and its module initializer registers its converters. A program that references one
/// but never names its types (e.g. it only sends a DataFrame with SendObject) still gets them.
/// </summary>
internal static class BridgeExtensions
{
    /// <summary>The extension assemblies, by simple name.</summary>
    private static readonly string[] Known = ["PyMpiBridge.DataFrames"];

    /// <summary>
    /// Loads every known extension found in <paramref name="directory"/> (or already loaded) and runs its initializer.
    /// An extension that cannot load is reported through <paramref name="warn"/> and skipped: the program runs without it.
    /// </summary>
    public static void LoadFrom(string directory, Action<string>? warn = null)
    {
        foreach (string name in Known)
        {
            string path = Path.Combine(directory, name + ".dll");
            try
            {
                Assembly? assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == name);
                if (assembly is null && File.Exists(path))
                {
                    try { assembly = Assembly.Load(new AssemblyName(name)); } // the program's own reference (its deps.json)
                    catch (FileNotFoundException)
                    {
                        // Beside the program but not among its dependencies (e.g. a tool started from a test's output):
                        // its own dependencies (Microsoft.Data.Analysis, ...) are beside it too.
                        ResolveDependenciesOf(path);
                        assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
                    }
                }
                if (assembly is not null) RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                (warn ?? (m => Console.Error.WriteLine($"PyMpiBridge: {m}")))(
                    $"{name} ({path}) could not be loaded, so its conversions are not available: {e.GetBaseException().Message}");
            }
        }
    }

    private static readonly ConcurrentDictionary<string, bool> s_resolving = new(StringComparer.Ordinal);

    /// <summary>
    /// Lets the assembly at <paramref name="path"/> find its own dependencies (packages the host does not ship) through
    /// its deps.json, or beside it. Once per assembly.
    /// </summary>
    public static void ResolveDependenciesOf(string path)
    {
        if (!s_resolving.TryAdd(path, true)) return;
        var resolver = new AssemblyDependencyResolver(path);
        string directory = Path.GetDirectoryName(path)!;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            string found = resolver.ResolveAssemblyToPath(name) ?? Path.Combine(directory, name.Name + ".dll");
            return File.Exists(found) ? context.LoadFromAssemblyPath(found) : null;
        };
    }
}
