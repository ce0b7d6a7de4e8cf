using System.Runtime.InteropServices;

namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// dlopen/dlsym from glibc. <see cref="NativeLibrary.Load(string)"/> cannot pass RTLD_GLOBAL,
/// and both libmpi (for its plugins) and libpython (for numpy's C extensions, which expect
/// <c>PyExc_*</c> in the global namespace) must be loaded globally.
/// </summary>
internal static unsafe partial class Libdl
{
    public const int RTLD_LAZY = 0x0001;
    public const int RTLD_NOW = 0x0002;
    public const int RTLD_GLOBAL = 0x0100;

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string? fileName, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "dlsym", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlsym(nint handle, string symbol);

    [LibraryImport("libc.so.6", EntryPoint = "dlerror")]
    private static partial nint dlerror();

    /// <summary>Opens <paramref name="fileName"/> with RTLD_NOW|RTLD_GLOBAL; returns 0 and the loader's message on failure.</summary>
    public static nint OpenGlobal(string fileName, out string? error)
    {
        dlerror(); // clear any stale message
        nint handle = dlopen(fileName, RTLD_NOW | RTLD_GLOBAL);
        error = handle == 0 ? LastError() : null;
        return handle;
    }

    /// <summary>Address of <paramref name="symbol"/> in <paramref name="handle"/>, or 0 when absent.</summary>
    public static nint Symbol(nint handle, string symbol)
    {
        dlerror();
        return dlsym(handle, symbol);
    }

    /// <summary>Address of <paramref name="symbol"/>; throws naming the library when absent.</summary>
    public static nint RequiredSymbol(nint handle, string symbol, string libraryName)
    {
        nint address = Symbol(handle, symbol);
        if (address == 0)
            throw new EntryPointNotFoundException(
                $"Symbol '{symbol}' not found in {libraryName}: {LastError() ?? "no loader message"}. " +
                "The library may be too old or not the one expected.");
        return address;
    }

    private static string? LastError()
    {
        nint message = dlerror();
        return message == 0 ? null : Marshal.PtrToStringUTF8(message);
    }
}
