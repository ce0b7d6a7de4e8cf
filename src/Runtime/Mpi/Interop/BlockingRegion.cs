using System.Runtime.CompilerServices;

namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Lets a host run code around every MPI call that can block — the Python bridge releases the
/// GIL in <see cref="Enter"/> and re-acquires it in <see cref="Exit"/>, so Python threads keep
/// running while this thread waits in MPI. Must be cheap and must not throw.
/// </summary>
internal interface IBlockingCallHook
{
    /// <summary>Called just before a blocking MPI call; the returned token is passed to <see cref="Exit"/>.</summary>
    nint Enter();
    /// <summary>Called right after the blocking MPI call returned.</summary>
    void Exit(nint token);
}

/// <summary>
/// The single choke point every blocking MPI call goes through:
/// <c>var region = BlockingRegion.Enter(); rc = MpiNative.X(...); region.Exit();</c>.
/// With no hook installed this costs one static load and a null test on each side.
/// </summary>
internal readonly struct BlockingRegion
{
    /// <summary>Installed by the bridge (e.g. to release the GIL); null when nobody needs it.</summary>
    internal static IBlockingCallHook? Hook;

    private readonly IBlockingCallHook? _hook;
    private readonly nint _token;

    private BlockingRegion(IBlockingCallHook hook, nint token)
    {
        _hook = hook;
        _token = token;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BlockingRegion Enter()
    {
        var hook = Hook;
        return hook is null ? default : new BlockingRegion(hook, hook.Enter());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => _hook?.Exit(_token);
}
