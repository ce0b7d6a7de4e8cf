"""Non-blocking numpy exchange around a ring: ``Isend`` + ``Irecv``, then ``MPI.Request.Waitall``.

Each rank sends its array to the right-hand neighbour and receives from the left-hand one. Posting
both operations before waiting is what makes this safe on any number of ranks: with blocking
Send/Recv every rank could sit in Send waiting for a receive that is never posted. With one rank,
the neighbour is the rank itself and the exchange still works.
The buffers must not be touched until Waitall returns.

Run: mpiexec -n 4 python3 isend_irecv_waitall.py   (any number of ranks)
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


right, left = (rank + 1) % size, (rank - 1) % size

send_buf = np.zeros(5) + rank
recv_buf = np.empty_like(send_buf)
requests = [
    comm.Irecv(recv_buf, source=left, tag=1337),
    comm.Isend(send_buf, dest=right, tag=1337),
]
MPI.Request.Waitall(requests)
say(f"sent {send_buf.tolist()} to rank {right}, got {recv_buf.tolist()} from rank {left}")
