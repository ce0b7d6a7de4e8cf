namespace PyMpiBridge.Mpi.Interop;

/// <summary>
/// Raw MPI_Init_thread / MPI_Finalize / MPI_Finalized, bypassing <see cref="MpiEnvironment"/> — what another
/// library in the process (mpi4py, a C extension) does. Lets tests check that we adopt an MPI someone else
/// initialized and leave finalizing it to them.
/// </summary>
internal static unsafe class ForeignMpi
{
    public static ThreadLevel InitThread(ThreadLevel required)
    {
        MpiLibrary.Load();
        int provided = 0;
        int rc = MpiNative.Init_thread(null, null, (int)required, &provided);
        if (rc != 0) throw new InvalidOperationException($"MPI_Init_thread failed with code {rc}.");
        return (ThreadLevel)provided;
    }

    public static bool IsFinalized()
    {
        int flag = 0;
        MpiError.Check(MpiNative.Finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    public static void FinalizeMpi() => MpiError.Check(MpiNative.Finalize(), "MPI_Finalize");
}
