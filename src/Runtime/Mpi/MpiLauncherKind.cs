namespace PyMpiBridge.Mpi;

/// <summary>What started this process, as told by the variables each launcher sets (see <see cref="LaunchEnvironment"/>).</summary>
public enum MpiLauncherKind
{
    /// <summary>No launcher: MPI makes this process a 1-rank world (singleton).</summary>
    None,
    /// <summary>Open MPI's <c>mpiexec</c> (its orted/prted set <c>OMPI_COMM_WORLD_SIZE</c>).</summary>
    OpenMpiMpiexec,
    /// <summary>A PMI-1/PMI-2 server: MPICH's hydra (<c>mpiexec.mpich</c>), Intel MPI's mpiexec, <c>srun --mpi=pmi2</c>.</summary>
    Pmi,
    /// <summary>A PMIx server without Open MPI's variables: <c>srun --mpi=pmix</c>, PRRTE's <c>prterun</c>.</summary>
    Pmix,
    /// <summary>Cray/HPE PALS (<c>srun --mpi=cray_shasta</c>, PBS's PALS <c>mpiexec</c>), served by Cray MPICH.</summary>
    CrayPals,
    /// <summary><c>srun</c> started this task with no MPI plugin (<c>--mpi=none</c>): no MPI of ours can wire up the tasks.</summary>
    SrunWithoutMpi,
}
