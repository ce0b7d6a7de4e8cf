"""Broadcast a Python object from the root to every rank (lowercase ``bcast``).

Typical use: rank 0 reads a configuration and every rank needs the same copy. Every rank must call
``bcast``; non-root ranks pass a placeholder (None) and get the root's object back.

Run: mpiexec -n 4 python3 bcast_object.py   (any number of ranks)
"""
import sys

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


def say(text):
    """One line, prefixed with this rank, written in a single call so that lines from different
    ranks never interleave inside mpiexec's merged output (print() issues separate writes for the
    text and the newline when Python runs unbuffered, e.g. with PYTHONUNBUFFERED=1)."""
    sys.stdout.write(f"rank {rank}: {text}\n")
    sys.stdout.flush()



config = {"model": "lattice", "steps": 1000, "seeds": [11, 22, 33], "temperatures": (300.0, 350.0)} if rank == 0 else None
config = comm.bcast(config, root=0)

# Every rank now derives its own settings from the shared copy.
my_seed = config["seeds"][rank % len(config["seeds"])]
say(f"got config {config!r}; my seed is {my_seed}")
