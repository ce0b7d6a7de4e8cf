using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PyMpiBridge.Runtime.Native;

/// <summary>
/// Ends this process when the process that started it exits. A rank's parent is its launcher (mpiexec, Open MPI's
/// orted, hydra's proxy, slurmstepd): a launcher that ends normally waits for its ranks first, so its exit before ours
/// means it was killed, and then nobody is left to end this rank. Left alone it waits forever, in its next collective
/// or in the fence of MPI_Finalize (found after a cluster was stopped while its 128 engines were still starting).
/// </summary>
/// <remarks>
/// The watch is a pidfd of the parent and one thread blocked in <c>poll</c> on it: no polling loop, no CPU while the
/// parent lives. Where pidfds are refused (kernels before 5.3, seccomp), <c>PR_SET_PDEATHSIG</c> with SIGKILL
/// stands in: the same end, without the message.
/// </remarks>
internal sealed unsafe class ParentExitWatch : IDisposable
{
    private readonly SafeFileHandle _pidfd;
    private readonly LocalTransport.WakeEvent _stop = new();
    private readonly Thread _thread;

    /// <summary>The parent's process id when the watch started.</summary>
    public int ParentId { get; }

    /// <summary>The parent's command name (<c>/proc/PID/comm</c>), for messages.</summary>
    public string ParentName { get; }

    private ParentExitWatch(int parent, string name, int pidfd, Action<ParentExitWatch> onExit)
    {
        ParentId = parent;
        ParentName = name;
        _pidfd = new SafeFileHandle(pidfd, ownsHandle: true);
        _thread = new Thread(() => Watch(onExit)) { IsBackground = true, Name = "parent-exit-watch" };
        _thread.Start();
    }

    /// <summary>
    /// Watches this process's parent: once it exits, <paramref name="onExit"/> runs (on the watch's thread; it
    /// should say why and then call <see cref="EndThisProcess"/>), also when it exited while the watch was starting.
    /// Null where pidfds are refused: then the kernel's parent-death signal ends this process, without
    /// <paramref name="onExit"/>.
    /// </summary>
    public static ParentExitWatch? Start(Action<ParentExitWatch> onExit)
    {
        int parent = Libc.GetParentProcessId();
        string name = NameOf(parent);
        int pidfd = (int)Libc.Syscall(Libc.SYS_pidfd_open, parent, 0);
        if (pidfd < 0)
        {
            // No pidfds here: the kernel kills us when the parent exits (no message, but no orphan either).
            Libc.Prctl(Libc.PR_SET_PDEATHSIG, 9 /* SIGKILL */, 0, 0, 0);
            if (Libc.GetParentProcessId() != parent) EndThisProcess(1);
            return null;
        }
        var watch = new ParentExitWatch(parent, name, pidfd, onExit);
        // the parent may have exited before the pidfd was opened: then the pidfd is of whoever adopted us (or none)
        if (Libc.GetParentProcessId() != parent) watch._stop.Signal();
        return watch;
    }

    private void Watch(Action<ParentExitWatch> onExit)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = (int)_pidfd.DangerousGetHandle(), Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = _stop.Descriptor, Events = Libc.POLLIN };
        while (true)
        {
            int n = Libc.Poll(fds, 2, -1);
            if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
            if (n < 0) return; // nothing sensible left to watch with
            if (fds[0].Revents != 0 || (fds[1].Revents != 0 && !_disposed))
                break;
            return; // disposed
        }
        onExit(this);
    }

    private volatile bool _disposed;

    /// <summary>Stops watching (the process is ending in order).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Signal();
        _thread.Join(TimeSpan.FromSeconds(1));
        if (_thread.IsAlive) return; // still polling them: leave both descriptors open rather than poll a reused number
        _stop.Dispose();
        _pidfd.Dispose();
    }

    /// <summary>
    /// Ends this process now with <paramref name="exitCode"/>, running nothing else: no .NET exit handlers, no
    /// atexit, no MPI_Finalize (each of them may wait on the job that is gone).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void EndThisProcess(int exitCode)
    {
        Libc.ExitNow(exitCode);
        throw new InvalidOperationException("_exit returned"); // not reached
    }

    private static string NameOf(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }
}
