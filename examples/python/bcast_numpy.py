"""Broadcast a numpy array in place with the uppercase buffer API (``Bcast``).

Unlike lowercase ``bcast``, every rank must already own a buffer of the right shape and dtype;
the root's contents overwrite it, with no pickling.

Run: mpiexec -n 4 python3 bcast_numpy.py   (any number of ranks)
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


N = 10

data = np.arange(N, dtype=np.float64) if rank == 0 else np.zeros(N, dtype=np.float64)
say(f"before Bcast {data.tolist()}")
comm.Bcast(data, root=0)
say(f"after Bcast {data.tolist()}")
