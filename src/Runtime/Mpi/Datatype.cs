using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// The MPI datatype handle for element type <typeparamref name="T"/>, looked up once per T and
/// cached in a static generic field, so hot calls pay one load and a zero test.
/// </summary>
internal static class Datatype<T> where T : unmanaged
{
    private static nint s_handle;

    /// <summary>Whether MPI's predefined operations compute on T (a JIT-time constant once T is known).</summary>
    public static readonly bool PredefinedOpsApply = ElementType.For(typeof(T))?.MpiArithmetic ?? true;

    public static nint Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            nint h = s_handle;
            return h != 0 ? h : Resolve();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Resolve()
    {
        PrimitiveDatatype kind = Datatypes.PrimitiveOf(typeof(T)) ?? throw Datatypes.Unsupported(typeof(T));
        nint handle = MpiLibrary.Abi.Datatype(kind);
        s_handle = handle;
        return handle;
    }
}

/// <summary>Which .NET element types map to which MPI datatype: read from the one table, <see cref="ElementType"/>.</summary>
internal static class Datatypes
{
    /// <summary>Element types Send/Recv/collectives accept.</summary>
    public static IReadOnlyCollection<Type> Supported => ElementType.All.Select(e => e.Type).ToArray();

    public static PrimitiveDatatype? PrimitiveOf(Type type) => ElementType.For(type)?.Mpi;

    public static NotSupportedException Unsupported(Type type) => new(
        $"Element type {type.FullName} has no MPI datatype mapping. Supported: {ElementType.Names}. " +
        "To move a struct's raw bytes, send MemoryMarshal.AsBytes(span) and receive into a byte span.");

    /// <summary>The size in bytes MPI gives the datatype of <paramref name="type"/> (<c>MPI_Type_size</c>).</summary>
    public static unsafe int MpiSizeOf(Type type)
    {
        var element = ElementType.For(type) ?? throw Unsupported(type);
        int size = 0;
        MpiError.Check(MpiNative.Type_size(MpiLibrary.Abi.Datatype(element.Mpi), &size), "MPI_Type_size");
        return size;
    }

    /// <summary>Predefined operations compute only on types MPI does arithmetic on (not Half).</summary>
    public static void CheckPredefinedOp(Type type, string op)
    {
        var element = ElementType.For(type) ?? throw Unsupported(type);
        if (!element.MpiArithmetic)
            throw new NotSupportedException(
                $"MPI's predefined {op} cannot reduce {type.Name} elements: {element.DTypeName} moves through MPI as raw " +
                $"{element.Size}-byte words, which MPI's arithmetic would misread. Reduce with a user-defined Op.Create<{type.Name}>(...), " +
                "or widen to float first.");
    }
}
