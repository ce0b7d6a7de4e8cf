"""mpi4py_bench.py - mpi4py with numpy buffers, for `pympi bench mpi` (impl "mpi4py").

METHODOLOGY (identical in mpi_bench.c, mpi4py_bench.py and MpiBenchWorker.cs;
see benchmarks/README.md). Any change here must be made in all three.
  - Exactly 2 ranks. Buffers are allocated once per size and touched before timing.
  - MPI thread level: MPI_THREAD_MULTIPLE by default (`--thread-level single|multiple`), the level
    our bridge and mpi4py run at. Open MPI takes locks on its fast paths at MULTIPLE, so comparing a
    SINGLE baseline with a MULTIPLE binding would measure Open MPI's locking, not the binding.
  - iterations(size) = clamp(2**27 // size, 10, 10000): many for small messages, few for 16 MiB.
  - warm-up: max(2, iterations // 10) untimed iterations before the first repeat.
  - repeats: R (default 9, `--repeats R`); each repeat starts with Barrier, then times
    `iterations` operations with MPI.Wtime on rank 0.
  - The reported value is the BEST repeat (minimum time): on a shared 2-core machine the
    noise only ever adds time, so the minimum is the most reproducible estimate of the cost.
  - ping-pong (ranks 0 <-> 1, bytes, tag 1): latency_us = half round-trip time;
    bandwidth_MBps = size / (half round trip) / 1e6, reported for sizes >= 1 KiB.
    Sizes: 8 B, 1 KiB, 64 KiB, 1 MiB, 16 MiB.
  - allreduce (float64, SUM on all ranks): latency_us = time per call.
    Sizes: 8 B * 4**k up to 8 MiB (8 B, 32 B, ..., 2 MiB, 8 MiB).
  - Results are checked after timing (echoed pattern; sum of rank+1), so a broken
    implementation fails loudly instead of producing fast nonsense.
  - `--pingpong-only` skips Allreduce (`pympi bench bridge` compares ping-pongs only).
  - Output: one JSON record per line on rank 0's stdout, the BenchRecord shape:
    {"name":"pingpong"|"allreduce","impl":"mpi4py","size_bytes":N,"metric":"latency_us"|"bandwidth_MBps","value":X}

Uses the uppercase buffer API (Send/Recv/Allreduce) with explicit [buffer, MPI type] pairs,
which is the fast path mpi4py users are told to use for numpy data.
Run: mpiexec -n 2 /usr/bin/python3 benchmarks/python/mpi4py_bench.py [--repeats R] [--thread-level single|multiple]
"""
import argparse
import json
import sys

import numpy as np

MPI = None  # mpi4py.MPI, imported in main() once the thread level is set (importing it initializes MPI)

TAG = 1
PINGPONG_SIZES = [8, 1 << 10, 64 << 10, 1 << 20, 16 << 20]
ALLREDUCE_SIZES = [8 * 4**k for k in range(11)]  # 8 B .. 8 MiB


def iterations_for(size):
    return min(10000, max(10, (1 << 27) // size))


def warmup_for(iterations):
    return max(2, iterations // 10)


def record(name, size, metric, value):
    print(json.dumps({"name": name, "impl": "mpi4py", "size_bytes": size, "metric": metric, "value": value}),
          flush=True)


def fail(comm, what):
    print(f"mpi4py_bench: {what}", file=sys.stderr, flush=True)
    comm.Abort(1)


def pingpong_loop(comm, rank, out, inb, iterations):
    # Bound methods and prebuilt [buffer, type] specs keep Python overhead out of the loop
    # as far as mpi4py allows; the same pattern a careful user would write.
    send, recv = comm.Send, comm.Recv
    out_spec, in_spec = [out, MPI.BYTE], [inb, MPI.BYTE]
    if rank == 0:
        for _ in range(iterations):
            send(out_spec, 1, TAG)
            recv(in_spec, 1, TAG)
    else:
        for _ in range(iterations):
            recv(in_spec, 0, TAG)
            send(in_spec, 0, TAG)


def bench_pingpong(comm, rank, size, repeats):
    out = (np.arange(size, dtype=np.int64) % 251).astype(np.uint8)
    inb = np.zeros(size, dtype=np.uint8)
    iterations = iterations_for(size)
    pingpong_loop(comm, rank, out, inb, warmup_for(iterations))
    best = float("inf")
    for _ in range(repeats):
        comm.Barrier()
        t0 = MPI.Wtime()
        pingpong_loop(comm, rank, out, inb, iterations)
        best = min(best, MPI.Wtime() - t0)
    if rank == 0:
        if not np.array_equal(out, inb):
            fail(comm, "ping-pong: echoed data differs from what was sent")
        half_rtt = best / iterations / 2.0
        record("pingpong", size, "latency_us", half_rtt * 1e6)
        if size >= 1024:
            record("pingpong", size, "bandwidth_MBps", size / half_rtt / 1e6)


def bench_allreduce(comm, rank, nranks, size, repeats):
    count = size // 8
    send = np.full(count, rank + 1, dtype=np.float64)
    recv = np.zeros(count, dtype=np.float64)
    send_spec, recv_spec = [send, MPI.DOUBLE], [recv, MPI.DOUBLE]
    allreduce, op = comm.Allreduce, MPI.SUM
    iterations = iterations_for(size)
    for _ in range(warmup_for(iterations)):
        allreduce(send_spec, recv_spec, op)
    best = float("inf")
    for _ in range(repeats):
        comm.Barrier()
        t0 = MPI.Wtime()
        for _ in range(iterations):
            allreduce(send_spec, recv_spec, op)
        best = min(best, MPI.Wtime() - t0)
    expected = nranks * (nranks + 1) / 2.0
    if recv[0] != expected or recv[-1] != expected:
        fail(comm, "allreduce: wrong sum")
    if rank == 0:
        record("allreduce", size, "latency_us", best / iterations * 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--thread-level", choices=["single", "multiple"], default="multiple")
    parser.add_argument("--pingpong-only", action="store_true", help="skip Allreduce (pympi bench bridge)")
    args = parser.parse_args()
    global MPI
    import mpi4py
    mpi4py.rc.thread_level = args.thread_level
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank, nranks = comm.Get_rank(), comm.Get_size()
    if nranks != 2:
        if rank == 0:
            print(f"mpi4py_bench: run on exactly 2 ranks (mpiexec -n 2), not {nranks}", file=sys.stderr, flush=True)
        comm.Abort(2)
    if args.repeats < 1:
        fail(comm, "--repeats must be at least 1")
    for size in PINGPONG_SIZES:
        bench_pingpong(comm, rank, size, args.repeats)
    for size in [] if args.pingpong_only else ALLREDUCE_SIZES:
        bench_allreduce(comm, rank, nranks, size, args.repeats)


if __name__ == "__main__":
    main()
