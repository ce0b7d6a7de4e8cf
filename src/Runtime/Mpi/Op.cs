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
    /// <typeparamref name="T"/>. At most <see cref="MaxUserDefined"/> may exist at once. If the function throws on a
    /// rank, the reduction still completes and then the job ends with the exception and that rank (on a one-rank
    /// communicator, the exception is thrown instead): ranks never go on with different outcomes.
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
    internal nint HandleFor<T>() where T : unmanaged
    {
        nint h = _handle;
        if ((h == 0) | (_elementType is not null) | !Datatype<T>.PredefinedOpsApply) h = ResolveFor(typeof(T));
        return h;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint ResolveFor(Type elementType)
    {
        if (_predefined is { } op)
        {
            Datatypes.CheckPredefinedOp(elementType, Name);
            return _handle = MpiLibrary.Abi.Op(op);
        }
        if (_handle == 0) throw new ObjectDisposedException(nameof(Op), $"Operation '{Name}' has been disposed.");
        if (elementType != _elementType)
            throw new ArgumentException(
                $"Operation '{Name}' was created for {_elementType!.Name} elements and cannot reduce {elementType.Name}; create one with Op.Create<{elementType.Name}>.");
        return _handle;
    }

    /// <summary>
    /// After a reduction over <paramref name="comm"/>: if the user function threw on this rank, the result is wrong
    /// here and the other ranks cannot know it (they may have got a result, or be waiting for this one). Alone in the
    /// communicator, the exception is thrown; otherwise the job ends with the reason, naming the rank, so no two ranks
    /// go on with different outcomes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfFunctionFailed(Comm comm)
    {
        if (_slot >= 0) ThrowIfFunctionFailedSlow(comm);
    }

    private void ThrowIfFunctionFailedSlow(Comm comm)
    {
        if (UserOpTrampolines.TakeFailure(_slot) is not { } e) return;
        var error = new InvalidOperationException($"The reduce function of '{Name}' threw {e.GetType().Name}: {e.Message}", e);
        if (comm.Size == 1) throw error;
        MpiEnvironment.Abort(1,
            $"the reduce function of '{Name}' threw on rank {comm.Rank} of communicator '{comm.Name}' ({comm.Size} ranks): {e}\n" +
            "The reduction's result is wrong on this rank and the other ranks cannot know it, so the job ends here.");
    }

    // Nonblocking reductions still running with this op: MPI calls its function until they complete.
    private int _pending;
    private nint _deferredFree;

    /// <summary>A nonblocking reduction started with this op (its request calls <see cref="EndUse"/> on completion).</summary>
    internal void BeginUse()
    {
        if (_slot < 0) return;
        lock (this) _pending++;
    }

    /// <summary>A nonblocking reduction that used this op completed; frees the op if it was disposed meanwhile.</summary>
    internal void EndUse()
    {
        if (_slot < 0) return;
        nint free;
        lock (this)
        {
            if (--_pending > 0 || _deferredFree == 0) return;
            free = _deferredFree;
            _deferredFree = 0;
        }
        Free(free);
    }

    /// <summary>
    /// Frees a user-defined operation (<c>MPI_Op_free</c>); no effect on predefined ones. The op is unusable at once;
    /// if nonblocking reductions using it are still pending, the free (and its trampoline slot) waits until the last
    /// of them completes, since MPI calls the function until then.
    /// </summary>
    public void Dispose()
    {
        if (_predefined is not null) return;
        nint handle;
        lock (this)
        {
            handle = _handle;
            if (handle == 0) return;
            _handle = 0;
            if (_pending > 0)
            {
                _deferredFree = handle;
                return;
            }
        }
        Free(handle);
    }

    private unsafe void Free(nint handle)
    {
        if (MpiEnvironment.IsInitialized && !MpiEnvironment.IsFinalized)
            MpiNative.Op_free(&handle);
        UserOpTrampolines.Return(_slot);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Op({Name})";
}
