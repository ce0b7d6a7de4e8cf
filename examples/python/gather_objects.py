"""Gather: every rank sends one object and the root receives them in rank order (lowercase ``gather``).

The reverse of scatter. Only the root gets the list; every other rank gets None back.

Run: mpiexec -n 4 python3 gather_objects.py   (any number of ranks)
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



mine = (rank, rank * rank, f"r{rank}")
say(f"sending {mine!r} to rank 0")
everything = comm.gather(mine, root=0)

if rank == 0:
    say(f"gathered {everything!r}")
    say(f"sum of squares {sum(sq for _, sq, _ in everything)}")
else:
    assert everything is None
