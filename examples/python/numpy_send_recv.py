"""numpy arrays with the uppercase buffer API: ``Send([array, MPI.TYPE])`` / ``Recv([array, MPI.TYPE])``.

No pickling: MPI reads and writes the array's memory directly, so this is the fast path (close to C).
The receiver allocates the buffer itself, with the right dtype and length; the explicit MPI type
in each ``[buffer, type]`` pair must match the dtype ('i' is MPI.INT, float64 is MPI.DOUBLE).
A Status tells how many elements actually arrived.

Run: mpiexec -n 4 python3 numpy_send_recv.py   (any N; with 1 rank there is no peer, which the
script says and exits 0)
"""
import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


def say(text):
    """One line, prefixed with this rank, written in a single call so that lines from different
    ranks never interleave inside mpiexec's merged output (print() issues separate writes for the
    text and the newline when Python runs unbuffered, e.g. with PYTHONUNBUFFERED=1)."""
    sys.stdout.write(f"rank {rank}: {text}\n")
    sys.stdout.flush()


N_INTS, N_DOUBLES = 10, 5

if size == 1:
    say("only one rank, no peer to send arrays to (run with -n 2 or more)")
elif rank == 0:
    ints = np.arange(N_INTS, dtype="i")
    for dest in range(1, size):
        doubles = np.linspace(0.0, 1.0, N_DOUBLES) * dest
        comm.Send([ints, MPI.INT], dest=dest, tag=21)
        comm.Send([doubles, MPI.DOUBLE], dest=dest, tag=22)
    say(f"sent int32 {ints.tolist()} and float64 linspace(0, 1, {N_DOUBLES}) * dest to ranks 1..{size - 1}")
else:
    ints = np.empty(N_INTS, dtype="i")
    doubles = np.empty(N_DOUBLES, dtype=np.float64)
    status = MPI.Status()
    comm.Recv([ints, MPI.INT], source=0, tag=21, status=status)
    n_ints = status.Get_count(MPI.INT)
    comm.Recv([doubles, MPI.DOUBLE], source=0, tag=22, status=status)
    n_doubles = status.Get_count(MPI.DOUBLE)
    say(f"received {n_ints} ints {ints.tolist()}")
    say(f"received {n_doubles} doubles {doubles.tolist()}")
