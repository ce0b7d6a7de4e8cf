"""Non-blocking send of Python objects: ``isend`` returns a request that must be completed.

Rank 0 posts one ``isend`` per rank -- including itself, which only works because the send does not
block -- and may do other work before ``MPI.Request.waitall`` completes them. A request that is
never waited on can leave the message (and its pickled buffer) in limbo; always complete it.
Receivers use a plain blocking ``recv``: blocking and non-blocking calls match each other freely.

Run: mpiexec -n 4 python3 isend_objects.py   (any number of ranks, including 1)
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


TAG = 11

if rank == 0:
    requests = [comm.isend(list(range(dest, dest + 10)), dest=dest, tag=TAG) for dest in range(size)]
    say(f"posted {len(requests)} non-blocking sends")

data = comm.recv(source=0, tag=TAG)
say(f"received {data}")

if rank == 0:
    MPI.Request.waitall(requests)
    say("all sends completed")
