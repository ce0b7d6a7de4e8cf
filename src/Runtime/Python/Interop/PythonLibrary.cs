using PyMpiBridge.Runtime.Native;

namespace PyMpiBridge.Python.Interop;

/// <summary>
/// The loaded libpython: one per process, opened RTLD_NOW|RTLD_GLOBAL because numpy's C extensions
/// resolve <c>PyExc_*</c> and friends from the global symbol namespace.
/// </summary>
internal static class PythonLibrary
{
    /// <summary>dlopen handle; 0 until <see cref="Load"/> or <see cref="TryAdoptProcess"/> succeeded.</summary>
    public static nint Handle { get; private set; }

    /// <summary>Path (or description) of the library, for messages.</summary>
    public static string Name { get; private set; } = "libpython (not loaded)";

    /// <summary>Opens <paramref name="path"/> globally; throws with the loader's message when it fails.</summary>
    public static void Load(string path)
    {
        nint handle = Libdl.OpenGlobal(path, out string? error);
        if (handle == 0)
            throw new DllNotFoundException(
                $"Could not load libpython '{path}': {error}. Install the shared library " +
                "(apt-get install libpython3-dev) or point PYMPI_PYTHON at an interpreter built with --enable-shared.");
        Handle = handle;
        Name = path;
    }

    /// <summary>
    /// When this process already contains an initialized CPython (we were loaded from Python, or some other
    /// component embedded it), use it instead of loading another copy: two interpreters in one process crash.
    /// </summary>
    public static unsafe bool TryAdoptProcess()
    {
        nint self = Libdl.OpenGlobal(null!, out _); // dlopen(NULL): the process and its global libraries
        if (self == 0) return false;
        nint isInitialized = Libdl.Symbol(self, "Py_IsInitialized");
        if (isInitialized == 0 || ((delegate* unmanaged<int>)isInitialized)() == 0) return false;
        Handle = self;
        Name = "the CPython already running in this process";
        return true;
    }
}
