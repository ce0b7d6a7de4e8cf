"""Blocking send/recv of arbitrary Python objects (lowercase API, pickled under the hood).

Rank 0 builds one object per peer -- a dict holding a list, a tuple and a bool, to show that any
picklable value travels -- and sends it with a per-destination tag; each peer receives its own.
Lowercase ``send``/``recv`` are the convenient path for small, irregular data; numpy arrays should
use the uppercase buffer API instead (see numpy_send_recv.py).

Run: mpiexec -n 4 python3 send_recv_objects.py   (any N; with 1 rank there is nobody to talk to,
which the script says and exits 0)
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




def message_for(dest):
    """The object rank 0 sends to `dest`: deterministic so the output can be checked."""
    return {"dest": dest, "squares": [i * i for i in range(dest + 3)], "pair": (dest, f"r{dest}"), "even": dest % 2 == 0}


if size == 1:
    say("only one rank, nothing to send (run with -n 2 or more)")
elif rank == 0:
    for dest in range(1, size):
        comm.send(message_for(dest), dest=dest, tag=100 + dest)
        say(f"sent {message_for(dest)!r} to rank {dest}")
else:
    obj = comm.recv(source=0, tag=100 + rank)
    assert obj == message_for(rank), f"rank {rank} got the wrong message: {obj!r}"
    say(f"received {obj!r} from rank 0")
