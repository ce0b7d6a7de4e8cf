"""Scatter: the root hands each rank its own piece (lowercase ``scatter``).

The root must supply exactly one item per rank. ``np.array_split`` cuts 0..9 into ``size`` nearly
equal pieces whatever the number of ranks, so the script runs on any N (the blog posts' versions
only work when N matches the data).

Run: mpiexec -n 4 python3 scatter_objects.py   (any number of ranks)
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



if rank == 0:
    data = np.arange(10)
    pieces = np.array_split(data, size)
    say(f"scattering {data.tolist()} in {size} pieces")
else:
    pieces = None

piece = comm.scatter(pieces, root=0)
say(f"got {piece.tolist()} (sum {int(piece.sum())})")
