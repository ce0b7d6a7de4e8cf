using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>An MPI call returned an error (our communicators use <c>MPI_ERRORS_RETURN</c>, so errors arrive here instead of aborting).</summary>
public sealed class MpiException : Exception
{
    internal MpiException(string callName, MpiErrorClass errorClass, int errorCode, string errorString, string? detail)
        : base(BuildMessage(callName, errorClass, errorCode, errorString, detail))
    {
        CallName = callName;
        ErrorClass = errorClass;
        ErrorCode = errorCode;
        ErrorString = errorString;
    }

    /// <summary>The MPI function that failed, e.g. <c>MPI_Recv</c>.</summary>
    public string CallName { get; }
    /// <summary>The error class, in our numbering.</summary>
    public MpiErrorClass ErrorClass { get; }
    /// <summary>The raw error code the library returned.</summary>
    public int ErrorCode { get; }
    /// <summary>The library's own text for the code (<c>MPI_Error_string</c>).</summary>
    public string ErrorString { get; }

    private static string BuildMessage(string call, MpiErrorClass cls, int code, string text, string? detail)
    {
        var sb = new StringBuilder();
        sb.Append(call).Append(" failed (").Append(cls).Append(", code ").Append(code).Append(')');
        if (detail is not null) sb.Append(": ").Append(detail);
        if (text.Length > 0) sb.Append(detail is null ? ": " : " MPI says: ").Append(text);
        return sb.ToString();
    }
}

/// <summary>Return-code checks for MPI calls; the throwing path is out of line to keep callers small.</summary>
internal static unsafe class MpiError
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int rc, string call)
    {
        if (rc != 0) Throw(rc, call);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(int rc, string call, string? detail = null) => throw Create(rc, call, detail);

    public static MpiException Create(int rc, string call, string? detail = null)
        => new(call, ClassOf(rc), rc, ErrorString(rc), detail);

    public static MpiErrorClass ClassOf(int rc)
    {
        int cls = 0;
        return MpiNative.Error_class(rc, &cls) == 0 ? MpiLibrary.Abi.MapErrorClass(cls) : MpiErrorClass.Other;
    }

    public static string ErrorString(int rc)
    {
        int max = MpiLibrary.Abi.MaxErrorString;
        byte* buffer = stackalloc byte[max + 1];
        int length = 0;
        if (MpiNative.Error_string(rc, buffer, &length) != 0) return "";
        return Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, max)).Trim();
    }
}
