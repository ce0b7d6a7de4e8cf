"""Arrays between C# and Python across hosts, in one hosted job (./pympi run -n 4 --hostfile ...; ranks 0, 1 on the
first host, 2, 3 on the second). Rank 0 and rank 2 exchange float64 arrays four ways: C# Send -> mpi4py Recv,
mpi4py Send -> C# Recv, C# -> C#, mpi4py -> mpi4py, each small (eager protocol) and 8 MiB (rendezvous). Every
received array is compared with what its sender computed, element by element; rank 2 prints one line per check.
Prints "rank R: on HOST" for every rank, then "rank 2: <check> ok <n> values" or "... FAIL ...".
"""
import socket
import sys

import numpy as np
from mpi4py import MPI
from pympibridge import world, csharp

kernels = sys.argv[1]
csharp.load(kernels)
rank = world.Get_rank()
sys.stdout.write(f"rank {rank}: on {socket.gethostname()}\n")
sys.stdout.flush()

ways = [("csharp-to-mpi4py", "cs", "py"), ("mpi4py-to-csharp", "py", "cs"),
        ("csharp-to-csharp", "cs", "cs"), ("mpi4py-to-mpi4py", "py", "py")]
for n in (1000, 1 << 20):
    for tag, (name, sender, receiver) in enumerate(ways):
        values = np.arange(n, dtype=np.float64) * 0.5 + tag + n   # what rank 0 sends
        if rank == 0:
            if sender == "cs":
                csharp.send_array(world, values, 2, tag)
            else:
                world.Send(values, dest=2, tag=tag)
        elif rank == 2:
            got = np.full(n, -1.0)
            if receiver == "cs":
                count = csharp.receive_array(world, got, 0, tag)
            else:
                status = MPI.Status()
                world.Recv(got, source=0, tag=tag, status=status)
                count = status.Get_count(MPI.DOUBLE)
            ok = count == n and np.array_equal(got, values)
            sys.stdout.write(f"rank 2: {name} {n} {'ok' if ok else 'FAIL'} {count} values, sum {got.sum():.1f}\n")
            sys.stdout.flush()
world.Barrier()
