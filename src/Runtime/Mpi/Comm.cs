using System.Runtime.CompilerServices;
using PyMpiBridge.Mpi.Interop;

namespace PyMpiBridge.Mpi;

/// <summary>
/// An MPI communicator (<c>MPI_Comm</c>). <see cref="World"/> and <see cref="Self"/> are predefined and
/// never freed; communicators made by <see cref="Dup"/>, <see cref="Split"/> or <see cref="Create"/>
/// belong to the caller, who frees them with <see cref="Dispose"/>. All our communicators report errors as
/// <see cref="MpiException"/> (MPI_ERRORS_RETURN) instead of aborting the job.
/// Rank and size are read once: they never change for a communicator.
/// </summary>
public sealed partial class Comm : IDisposable
{
    /// <summary>Wildcard source for receives and probes.</summary>
    public const int AnySource = -1;
    /// <summary>Wildcard tag for receives and probes.</summary>
    public const int AnyTag = -1;
    /// <summary>The null process: sends to it and receives from it complete at once and move nothing.</summary>
    public const int ProcNull = -2;

    private nint _handle;
    private readonly bool _ownsHandle;
    private readonly bool _predefined;
    // A view lent to callees and reused across calls (Borrow): the lender keeps it, so Dispose by a borrower does nothing.
    private readonly bool _lent;

    private unsafe Comm(nint handle, bool ownsHandle, string name, bool predefined = false, bool lent = false)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        _predefined = predefined;
        _lent = lent;
        Name = name;
        Rank = QueryInt(MpiNative.Comm_rank, handle, "MPI_Comm_rank");
        Size = QueryInt(MpiNative.Comm_size, handle, "MPI_Comm_size");
    }

    /// <summary>All processes of the job (<c>MPI_COMM_WORLD</c>).</summary>
    /// <exception cref="InvalidOperationException">MPI is not initialized or already finalized.</exception>
    public static Comm World => MpiEnvironment.RequireWorld();

    /// <summary>This process alone (<c>MPI_COMM_SELF</c>).</summary>
    public static Comm Self => MpiEnvironment.RequireSelf();

    /// <summary>This process's rank in the communicator, 0..Size-1.</summary>
    public int Rank { get; }

    /// <summary>Number of processes in the communicator.</summary>
    public int Size { get; }

    /// <summary>A label for messages: World, Self, Dup of World, ...</summary>
    public string Name { get; }

    /// <summary>True once disposed (or MPI finalized); every operation then throws.</summary>
    public bool IsDisposed => _handle == 0 || MpiEnvironment.IsFinalized;

    /// <summary>
    /// The raw C handle: an address for Open MPI, a zero-extended int for MPICH. Equal to mpi4py's
    /// <c>MPI._handleof(comm)</c> for the same communicator.
    /// </summary>
    public nint HandleValue => Live();

    internal static unsafe Comm CreatePredefined(nint handle, string name)
    {
        MpiError.Check(MpiNative.Comm_set_errhandler(handle, MpiLibrary.Abi.ErrorsReturn), "MPI_Comm_set_errhandler");
        return new Comm(handle, ownsHandle: false, name, predefined: true);
    }

    /// <summary>Wraps a handle we created: switches it to ERRORS_RETURN and takes ownership.</summary>
    private static unsafe Comm? Adopt(nint handle, string name)
    {
        if (handle == MpiLibrary.Abi.CommNull) return null;
        int rc = MpiNative.Comm_set_errhandler(handle, MpiLibrary.Abi.ErrorsReturn);
        if (rc != 0)
        {
            MpiNative.Comm_free(&handle);
            MpiError.Throw(rc, "MPI_Comm_set_errhandler");
        }
        return new Comm(handle, ownsHandle: true, name);
    }

    /// <summary>A new communicator with the same members and a separate message space (<c>MPI_Comm_dup</c>). Collective.</summary>
    public unsafe Comm Dup()
    {
        nint handle = 0;
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Comm_dup(Live(), &handle);
        region.Exit();
        MpiError.Check(rc, "MPI_Comm_dup");
        return Adopt(handle, $"Dup of {Name}")!;
    }

    /// <summary>
    /// Splits into disjoint communicators, one per <paramref name="color"/>, ranked by <paramref name="key"/>
    /// then old rank (<c>MPI_Comm_split</c>). Collective. Returns null on ranks that pass
    /// <see cref="MpiEnvironment.Undefined"/> as color.
    /// </summary>
    public unsafe Comm? Split(int color, int key = 0)
    {
        if (color < 0 && color != MpiEnvironment.Undefined)
            throw new ArgumentOutOfRangeException(nameof(color), color,
                "Split color must be >= 0, or MpiEnvironment.Undefined to take no part in any new communicator.");
        nint handle = 0;
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Comm_split(Live(), color == MpiEnvironment.Undefined ? MpiLibrary.Abi.Undefined : color, key, &handle);
        region.Exit();
        MpiError.Check(rc, "MPI_Comm_split");
        return Adopt(handle, $"Split of {Name} (color {color})");
    }

    /// <summary>
    /// A communicator of the members of <paramref name="group"/> (a subset of this one), <c>MPI_Comm_create</c>.
    /// Collective over this communicator: every rank calls it with the same group. Returns null on non-members.
    /// </summary>
    public unsafe Comm? Create(Group group)
    {
        ArgumentNullException.ThrowIfNull(group);
        nint handle = 0;
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Comm_create(Live(), group.Live(), &handle);
        region.Exit();
        MpiError.Check(rc, "MPI_Comm_create");
        return Adopt(handle, $"Create from {Name}");
    }

    /// <summary>How this communicator relates to <paramref name="other"/> (<c>MPI_Comm_compare</c>).</summary>
    public unsafe CommComparison Compare(Comm other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int result = 0;
        MpiError.Check(MpiNative.Comm_compare(Live(), other.Live(), &result), "MPI_Comm_compare");
        return (CommComparison)result;
    }

    /// <summary>The group of this communicator's processes (<c>MPI_Comm_group</c>); dispose it when done.</summary>
    public unsafe Group GetGroup()
    {
        nint handle = 0;
        MpiError.Check(MpiNative.Comm_group(Live(), &handle), "MPI_Comm_group");
        return new Group(handle);
    }

    /// <summary>Waits until every rank of the communicator has called Barrier (<c>MPI_Barrier</c>).</summary>
    public unsafe void Barrier()
    {
        nint comm = Live();
        var region = BlockingRegion.Enter();
        int rc = MpiNative.Barrier(comm);
        region.Exit();
        MpiError.Check(rc, "MPI_Barrier");
    }

    /// <summary>The Fortran integer handle (<c>MPI_Comm_c2f</c>), e.g. for <c>mpi4py.MPI.Comm.f2py</c>.</summary>
    public unsafe int ToFortran()
    {
        nint handle = Live();
        // MPICH's c2f is a macro: the Fortran handle is the int handle itself.
        return MpiNative.Comm_c2f != null ? MpiNative.Comm_c2f(handle) : (int)handle;
    }

    /// <summary>
    /// Wraps a communicator given as a Fortran integer handle (<c>MPI_Comm_f2c</c>), e.g. from mpi4py's
    /// <c>comm.py2f()</c>. With <paramref name="ownsHandle"/> false (the default) Dispose leaves it alone
    /// and its error handler is not changed.
    /// </summary>
    public static unsafe Comm FromFortran(int fortranHandle, bool ownsHandle = false)
    {
        MpiEnvironment.RequireInitialized();
        nint handle = MpiNative.Comm_f2c != null ? MpiNative.Comm_f2c(fortranHandle) : (nint)(uint)fortranHandle;
        if (handle == 0 || handle == MpiLibrary.Abi.CommNull)
            throw new ArgumentException($"Fortran handle {fortranHandle} does not name a communicator (it maps to MPI_COMM_NULL).", nameof(fortranHandle));
        if (handle == MpiLibrary.Abi.CommWorld) return World;
        if (handle == MpiLibrary.Abi.CommSelf) return Self;
        return ownsHandle ? Adopt(handle, $"Fortran handle {fortranHandle}")! : new Comm(handle, ownsHandle: false, $"Fortran handle {fortranHandle}");
    }

    /// <summary>
    /// A view of a communicator someone else owns, given by its C handle (e.g. read from an mpi4py object): World and
    /// Self for theirs, otherwise a lent view. <paramref name="reuse"/>, a view made earlier, is returned instead of a
    /// new one when it is live, has the same handle, and MPI still gives it the same rank and size (a freed handle
    /// reused by a new communicator then gets a new view). Because one view may be handed to many calls, Dispose on it
    /// does nothing, as on World: a callee that disposes its argument (<c>using</c>) breaks no other holder of the view.
    /// </summary>
    internal static unsafe Comm Borrow(nint handle, Comm? reuse)
    {
        MpiEnvironment.RequireInitialized();
        if (handle == 0 || handle == MpiLibrary.Abi.CommNull)
            throw new ArgumentException("the handle is MPI_COMM_NULL (freed, or this rank is not a member).", nameof(handle));
        if (handle == MpiLibrary.Abi.CommWorld) return World;
        if (handle == MpiLibrary.Abi.CommSelf) return Self;
        if (reuse is { _handle: var h, _ownsHandle: false } && h == handle && !MpiEnvironment.IsFinalized &&
            QueryInt(MpiNative.Comm_rank, handle, "MPI_Comm_rank") == reuse.Rank &&
            QueryInt(MpiNative.Comm_size, handle, "MPI_Comm_size") == reuse.Size)
            return reuse;
        return new Comm(handle, ownsHandle: false, $"borrowed 0x{handle:x}", lent: true);
    }

    /// <summary>
    /// Frees a communicator we created (<c>MPI_Comm_free</c>) and makes this object unusable. No effect at all on
    /// World, Self and the views lent to exported C# functions (their Comm arguments, reused across calls); a borrowed
    /// handle (<see cref="FromFortran"/> without ownership) is left to its owner and only this object becomes unusable.
    /// </summary>
    public void Free() => Dispose();

    /// <inheritdoc cref="Free"/>
    public unsafe void Dispose()
    {
        nint handle = _handle;
        if (handle == 0 || _predefined || _lent) return;
        _handle = 0;
        // Predefined and borrowed communicators are never freed; after MPI_Finalize nothing may be.
        if (!_ownsHandle || MpiEnvironment.IsFinalized || !MpiEnvironment.IsInitialized) return;
        MpiError.Check(MpiNative.Comm_free(&handle), "MPI_Comm_free");
    }

    /// <inheritdoc/>
    public override string ToString() => $"Comm({Name}, rank {Rank} of {Size})";

    /// <summary>The live handle; throws when disposed or after MPI_Finalize. One load and one branch on the hot path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint Live()
    {
        nint h = _handle;
        if ((h == 0) | MpiEnvironment.s_finalized) ThrowNotLive();
        return h;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotLive()
    {
        if (MpiEnvironment.s_finalized)
            throw new InvalidOperationException($"MPI has been finalized; {Name} can no longer be used. MPI cannot be re-initialized in the same process.");
        throw new ObjectDisposedException(nameof(Comm), $"Communicator '{Name}' has been disposed.");
    }

    private static unsafe int QueryInt(delegate* unmanaged<nint, int*, int> query, nint handle, string call)
    {
        int value = 0;
        MpiError.Check(query(handle, &value), call);
        return value;
    }
}
