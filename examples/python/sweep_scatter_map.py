"""Parameter-map sweep: rows of a 2-D parameter grid scattered over ranks, results gathered back.

The workflow: a serial double loop fills a map f(pO2, pCO) (a catalytic turnover frequency over two
partial pressures). Parallel version: the root splits the pO2 axis into one block per rank
(``scatter``), each rank fills its rows over the whole pCO axis, and the root reassembles the map
(``gather`` + ``vstack``). ``np.array_split`` makes it work for any number of ranks, not only
when the axis length is a multiple of it. Every rank must take part in scatter and gather.

Run: mpiexec -n 4 python3 sweep_scatter_map.py   (any number of ranks)
"""
import sys

import numpy as np
from mpi4py import MPI

N_O2, N_CO = 10, 10
K_O2, K_CO, RATE = 5.0, 20.0, 1.0e3  # adsorption constants and rate constant of the toy model


def turnover(p_o2, p_co):
    """Langmuir-Hinshelwood-like rate: dissociative O2 and molecular CO competing for the same sites."""
    o = np.sqrt(K_O2 * p_o2)
    co = K_CO * p_co
    free = 1.0 + o + co
    return RATE * (o / free) * (co / free)


comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


def say(text):
    """One line, prefixed with this rank, written in a single call so that lines from different
    ranks never interleave inside mpiexec's merged output (print() issues separate writes for the
    text and the newline when Python runs unbuffered, e.g. with PYTHONUNBUFFERED=1)."""
    sys.stdout.write(f"rank {rank}: {text}\n")
    sys.stdout.flush()



p_o2_blocks = np.array_split(np.linspace(1e-5, 0.5, N_O2), size) if rank == 0 else None
my_p_o2 = comm.scatter(p_o2_blocks, root=0)
p_co = np.linspace(1e-5, 0.5, N_CO)

# The "expensive" part, done only for this rank's rows.
my_rows = np.array([[turnover(po2, pco) for pco in p_co] for po2 in my_p_o2]).reshape(len(my_p_o2), N_CO)
if len(my_p_o2):
    say(f"computed {len(my_p_o2)} rows for pO2 {my_p_o2[0]:.6g}..{my_p_o2[-1]:.6g}")
else:
    say("computed 0 rows (more ranks than rows)")

blocks = comm.gather(my_rows, root=0)
if rank == 0:
    tof_map = np.vstack(blocks)
    i, j = np.unravel_index(np.argmax(tof_map), tof_map.shape)
    p_o2 = np.linspace(1e-5, 0.5, N_O2)
    say(f"map shape {tof_map.shape[0]}x{tof_map.shape[1]}, sum {tof_map.sum():.10g}")
    say(f"max {tof_map[i, j]:.10g} at pO2 {p_o2[i]:.6g}, pCO {p_co[j]:.6g}")
    # Row sums in pO2 order: they show the blocks came back in rank order, not just complete.
    say("row sums " + " ".join(f"{s:.10g}" for s in tof_map.sum(axis=1)))
