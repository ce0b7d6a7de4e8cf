using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// A user reduction: combine <paramref name="input"/> element-wise into <paramref name="inoutput"/>
/// (<c>inoutput[i] = input[i] ∘ inoutput[i]</c>). Called by MPI, possibly several times per reduction
/// and on any thread; must not call MPI.
/// </summary>
public delegate void ReduceFunction<T>(ReadOnlySpan<T> input, Span<T> inoutput) where T : unmanaged;

/// <summary>
/// A reduction operation (<c>MPI_Op</c>): the predefined ones (<see cref="Sum"/>, <see cref="Max"/>, ...) or one
/// made from a C# function with <see cref="Create{T}"/>, which must be disposed (<c>MPI_Op_free</c>).
/// </summary>
public sealed class Op : IDisposable
{
    private readonly PredefinedOp? _predefined;
    private nint _handle;
    private readonly int _slot = -1;
    private readonly Type? _elementType;

    private Op(PredefinedOp op)
    {
        _predefined = op;
        Name = op.ToString();
    }

    private Op(nint handle, int slot, Type elementType, bool commutative)
    {
        _handle = handle;
        _slot = slot;
        _elementType = elementType;
        IsCommutative = commutative;
        Name = $"user op #{slot} on {elementType.Name}";
    }

    /// <summary>Sum (<c>MPI_SUM</c>).</summary>
    public static Op Sum { get; } = new(PredefinedOp.Sum);
    /// <summary>Product (<c>MPI_PROD</c>).</summary>
    public static Op Prod { get; } = new(PredefinedOp.Prod);
    /// <summary>Minimum (<c>MPI_MIN</c>).</summary>
    public static Op Min { get; } = new(PredefinedOp.Min);
    /// <summary>Maximum (<c>MPI_MAX</c>).</summary>
    public static Op Max { get; } = new(PredefinedOp.Max);
    /// <summary>Logical and (<c>MPI_LAND</c>), for bool and integers.</summary>
    public static Op Land { get; } = new(PredefinedOp.Land);
    /// <summary>Logical or (<c>MPI_LOR</c>).</summary>
    public static Op Lor { get; } = new(PredefinedOp.Lor);
    /// <summary>Logical exclusive or (<c>MPI_LXOR</c>).</summary>
    public static Op Lxor { get; } = new(PredefinedOp.Lxor);
    /// <summary>Bitwise and (<c>MPI_BAND</c>), for integers.</summary>
    public static Op Band { get; } = new(PredefinedOp.Band);
    /// <summary>Bitwise or (<c>MPI_BOR</c>).</summary>
    public static Op Bor { get; } = new(PredefinedOp.Bor);
    /// <summary>Bitwise exclusive or (<c>MPI_BXOR</c>).</summary>
    public static Op Bxor { get; } = new(PredefinedOp.Bxor);

    /// <summary>Name for messages.</summary>
    public string Name { get; }

    /// <summary>True for MPI's predefined operations.</summary>
    public bool IsPredefined => _predefined is not null;

    /// <summary>Whether MPI may reorder operands (predefined operations are all commutative).</summary>
    public bool IsCommutative { get; } = true;

    /// <summary>
    /// Creates an operation from a C# function (<c>MPI_Op_create</c>); usable only with element type
    /// <typeparamref name="T"/>. At most <see cref="MaxUserDefined"/> may exist at once. If the function throws,
    /// the collective still completes on every rank and then throws on the ranks where it failed.
    /// </summary>
    public static unsafe Op Create<T>(ReduceFunction<T> function, bool commutative = true) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(function);
        MpiEnvironment.RequireInitialized();
        _ = Datatype<T>.Handle; // unsupported element types fail here, with the type named
        int slot = UserOpTrampolines.Rent((input, inout, length) =>
            function(new ReadOnlySpan<T>((void*)input, length), new Span<T>((void*)inout, length)));
        nint handle = 0;
        int rc = MpiNative.Op_create(UserOpTrampolines.Pointer(slot), commutative ? 1 : 0, &handle);
        if (rc != 0)
        {
            UserOpTrampolines.Return(slot);
            MpiError.Throw(rc, "MPI_Op_create");
        }
        return new Op(handle, slot, typeof(T), commutative);
    }

    /// <summary>How many user-defined operations may exist at the same time.</summary>
    public const int MaxUserDefined = UserOpTrampolines.Capacity;

    /// <summary>The handle to pass MPI for a reduction over <typeparamref name="T"/>; checks user ops match T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint HandleFor<T>()
    {
        nint h = _handle;
        if ((h == 0) | (_elementType is not null)) h = ResolveFor(typeof(T));
        return h;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint ResolveFor(Type elementType)
    {
        if (_predefined is { } op)
        {
            if (Datatypes.PrimitiveOf(elementType) is null) throw Datatypes.Unsupported(elementType);
            return _handle = MpiLibrary.Abi.Op(op);
        }
        if (_handle == 0) throw new ObjectDisposedException(nameof(Op), $"Operation '{Name}' has been disposed.");
        if (elementType != _elementType)
            throw new ArgumentException(
                $"Operation '{Name}' was created for {_elementType!.Name} elements and cannot reduce {elementType.Name}; create one with Op.Create<{elementType.Name}>.");
        return _handle;
    }

    /// <summary>Rethrows, on this rank, an exception the user function raised during the last reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfFunctionFailed()
    {
        if (_slot >= 0) ThrowIfFunctionFailedSlow();
    }

    private void ThrowIfFunctionFailedSlow()
    {
        if (UserOpTrampolines.TakeFailure(_slot) is { } e)
            throw new InvalidOperationException($"The reduce function of '{Name}' threw {e.GetType().Name}: {e.Message}", e);
    }

    /// <summary>Frees a user-defined operation (<c>MPI_Op_free</c>); no effect on predefined ones.</summary>
    public unsafe void Dispose()
    {
        if (_predefined is not null) return;
        nint handle = _handle;
        if (handle == 0) return;
        _handle = 0;
        if (MpiEnvironment.IsInitialized && !MpiEnvironment.IsFinalized)
            MpiNative.Op_free(&handle);
        UserOpTrampolines.Return(_slot);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Op({Name})";
}
