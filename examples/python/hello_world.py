"""Hello world: every rank says who it is and where it runs.

The first thing anyone runs after installing mpi4py. Importing ``mpi4py.MPI`` initializes MPI (and
registers MPI_Finalize at exit), so a script needs no explicit Init/Finalize.

Run: mpiexec -n 4 python3 hello_world.py      (any number of ranks)
Prints one line per rank: "rank R: hello, world! I am process R of N on HOST".
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


say(f"hello, world! I am process {rank} of {size} on {MPI.Get_processor_name()}")
