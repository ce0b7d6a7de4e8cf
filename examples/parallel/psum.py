"""Seed 000's kernel: a numba-compiled local sum, then an MPI reduction across the engines.

Run on every engine with ``view.run('psum.py')``; inside an engine ``MPI.COMM_WORLD`` is exactly the engines.
"""
import numpy as np
from mpi4py import MPI
from numba import njit


@njit(cache=False)
def local_sum(a):
    s = 0.0
    for x in a:
        s += x
    return s


def psum(a):
    """The sum of ``a`` over every engine's part."""
    mine = np.array(local_sum(a), dtype="d")
    total = np.array(0.0, dtype="d")
    MPI.COMM_WORLD.Allreduce([mine, MPI.DOUBLE], [total, MPI.DOUBLE], op=MPI.SUM)
    return float(total)
