using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging;

namespace PyMpiBridge.Sharing;

/// <summary>
/// Assemblies that add conversions to the bridge without the core depending on their packages: when one is deployed
/// with the program (a project reference copies it beside the program's assembly), the rank session and
/// <c>csharp.load</c> load it, and its module initializer registers its converters. A program that references one
/// but never names its types (e.g. it only sends a DataFrame with SendObject) still gets them.
/// </summary>
internal static class BridgeExtensions
{
    /// <summary>The extension assemblies, by simple name.</summary>
    private static readonly string[] Known = ["PyMpiBridge.DataFrames"];

    /// <summary>
    /// Loads every known extension found in <paramref name="directory"/> (or already loaded) and runs its initializer.
    /// An extension whose dependencies cannot be found (a program whose deps.json does not list the extension's
    /// packages, e.g. a tool copied beside it) is skipped with a warning: the rank runs without those conversions.
    /// </summary>
    public static void LoadFrom(string directory, ILogger? log = null)
    {
        foreach (string name in Known)
        {
            try
            {
                Assembly? assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == name);
                string path = Path.Combine(directory, name + ".dll");
                if (assembly is null && File.Exists(path))
                {
                    try { assembly = Assembly.Load(new AssemblyName(name)); } // the program's own reference (its deps.json)
                    catch (FileNotFoundException)
                    {
                        PythonSide.ResolveDependenciesOf(path); // its packages, beside it
                        assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
                    }
                }
                if (assembly is not null) RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            }
            catch (Exception e) when (e is TypeInitializationException or FileNotFoundException or FileLoadException or BadImageFormatException or InvalidOperationException)
            {
                log?.LogWarning("{Extension} in {Directory} could not be loaded, its conversions are off in this rank: {Reason} " +
                                "(deploy its dependencies beside it, or reference it from the program)",
                                name, directory, (e.InnerException ?? e).Message);
            }
        }
    }
}
