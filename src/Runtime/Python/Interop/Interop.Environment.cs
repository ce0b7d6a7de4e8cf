using System.Runtime.InteropServices;

namespace PyMpiBridge.Python.Interop;

/// <summary>
/// The C library's environment. <see cref="Environment.SetEnvironmentVariable(string, string?)"/> does not
/// change the native <c>environ</c> on Unix, and CPython reads PYTHONHOME from there during initialization.
/// </summary>
internal static partial class NativeEnvironment
{
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);

    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getenv(string name);

    public static string? Get(string name)
    {
        nint value = getenv(name);
        return value == 0 ? null : Marshal.PtrToStringUTF8(value);
    }

    /// <summary>Sets (or, for null, removes) a variable in the native environment.</summary>
    public static void Set(string name, string? value)
    {
        if (value is null) unsetenv(name);
        else setenv(name, value, 1);
    }
}
