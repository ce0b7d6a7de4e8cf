"""Parameter sweep over a shuffled job list shared with ``bcast``.

The workflow: an existing serial function ``big_job(a, b)`` must run for every (a, b) pair of a
grid. The root shuffles the job indices (so expensive corners of the grid spread over all ranks),
broadcasts the order, and each rank takes every size-th job of it. The shuffle uses a fixed seed so
runs are reproducible. Striding (``order[rank::size]``) covers every job even when the job count is
not a multiple of the number of ranks -- splitting into equal integer blocks would silently drop
the remainder. Results come back to the root with ``gather`` to check that nothing was lost.

Run: mpiexec -n 4 python3 sweep_shuffled_bcast.py   (any number of ranks)
"""
import random
import sys

import numpy as np
from mpi4py import MPI

SEED = 2024
A_VALUES = np.linspace(0.03, 0.5, 12)
B_VALUES = np.linspace(0.05, 0.95, 12)


def big_job(a, b):
    """Stand-in for the user's serial computation: a damped oscillation integrated numerically."""
    x = np.linspace(0.0, 10.0, 2001)
    y = np.exp(-a * x) * np.cos(2.0 * np.pi * b * x)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


def say(text):
    """One line, prefixed with this rank, written in a single call so that lines from different
    ranks never interleave inside mpiexec's merged output (print() issues separate writes for the
    text and the newline when Python runs unbuffered, e.g. with PYTHONUNBUFFERED=1)."""
    sys.stdout.write(f"rank {rank}: {text}\n")
    sys.stdout.flush()



jobs = [(a, b) for a in A_VALUES for b in B_VALUES]
if rank == 0:
    order = list(range(len(jobs)))
    random.Random(SEED).shuffle(order)
else:
    order = None
order = comm.bcast(order, root=0)

mine = order[rank::size]
results = {index: big_job(*jobs[index]) for index in mine}
say(f"ran {len(mine)} jobs, first {mine[:3]}")

all_results = comm.gather(results, root=0)
if rank == 0:
    merged = {}
    for part in all_results:
        merged.update(part)
    assert sorted(merged) == list(range(len(jobs))), "some jobs were lost or run twice"
    best = max(merged, key=merged.get)
    say(f"{len(merged)} of {len(jobs)} jobs done, checksum {sum(merged[k] for k in sorted(merged)):.10g}")
    say(f"largest result {merged[best]:.10g} at a {jobs[best][0]:.6g}, b {jobs[best][1]:.6g}")
