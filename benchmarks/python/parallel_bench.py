"""`pympi bench parallel`: ipyparallel's programming model, ours against the peers, on the same work, 2 engines each.

Each implementation runs in its own process (so one cannot warm or slow the other):
  ours            pympibridge.parallel (MPI engines hosted by PyMpiBridge)
  ipyparallel     Debian's ipyparallel 7.1 with MPI engines
  mpi4py.futures  MPIPoolExecutor with 2 workers, launched as mpi4py documents for speed:
                  `mpiexec -n 3 python -m mpi4py.futures parallel_bench.py` (workers in the same MPI job, shared
                  memory transport), the fastest launch we found here; DESIGN.md's hand-measured 55 us / 148,000
                  tasks/s is reproduced by none (benchmarks/README.md lists the launches tried and their figures).
                  Its cluster_start_s is from launching mpiexec to the workers answering.

Metrics: cluster_start_s, apply_roundtrip_us (one engine, `lambda: None`, median), lb_tiny_tasks_per_s
(N apply_async of a no-op, then get all), map_items_per_s (load-balanced map of 20,000 identity items,
chunksize 1), push_64MiB_GBps / pull_64MiB_GBps (64 MiB float64 array to / from 2 engines; bytes moved / time).
Prints one JSON record per line: {"name": "parallel", "impl": ..., "metric": ..., "value": ...}.

--scale [--engines 2,8,32,128]: ours and ipyparallel on clusters of each size (engines oversubscribed on this machine),
one process per (implementation, size): cluster_start_s (until every engine is registered), lb_tiny_tasks_per_s, and a
load-balanced map of short sleeps that must reach every engine (checked, not measured). Records carry "engines": N.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

IMPLS = ("ours", "ipyparallel", "mpi4py.futures")


def emit(impl, metric, value, engines=None):
    record = {"name": "parallel", "impl": impl, "metric": metric, "value": value}
    if engines is not None:
        record["engines"] = engines
    print(json.dumps(record), flush=True)


def noop():
    return None


def identity(x):
    return x


def _roundtrip_us(call, n):
    call()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def _tiny_tasks_per_s(submit, result, args):
    """Best of the rounds: submit every no-op, then collect every result."""
    best = 0.0
    for _ in range(args.rounds):
        t = time.perf_counter()
        pending = [submit(noop) for _ in range(args.tasks)]
        for p in pending:
            result(p)
        best = max(best, args.tasks / (time.perf_counter() - t))
    return best


def run_ipp_style(ipp, impl, args, **cluster_kw):
    import numpy as np
    t = time.perf_counter()
    cluster = ipp.Cluster(n=2, **cluster_kw)
    rc = cluster.start_and_connect_sync()
    emit(impl, "cluster_start_s", time.perf_counter() - t)
    try:
        rc.wait_for_engines(2, timeout=60)
        e0 = rc[0]
        e0.block = True
        emit(impl, "apply_roundtrip_us", _roundtrip_us(lambda: e0.apply_sync(noop), args.roundtrips))
        lb = rc.load_balanced_view()
        emit(impl, "lb_tiny_tasks_per_s", _tiny_tasks_per_s(lb.apply_async, lambda ar: ar.get(), args))
        items = list(range(args.map_items))
        t = time.perf_counter()
        out = lb.map_sync(identity, items, chunksize=1)
        dt = time.perf_counter() - t
        assert list(out) == items, "map returned wrong results"
        emit(impl, "map_items_per_s", args.map_items / dt)
        a = np.random.default_rng(1).random(64 * 2**20 // 8)
        view = rc[:]
        view.block = True
        view.push({"a": a[:1024]})  # warm: functions, connections
        best_push, best_pull = 0.0, 0.0
        for _ in range(args.rounds):
            t = time.perf_counter()
            view.push({"a": a})
            best_push = max(best_push, 2 * a.nbytes / (time.perf_counter() - t) / 1e9)
            t = time.perf_counter()
            pulled = view.pull("a")
            best_pull = max(best_pull, 2 * a.nbytes / (time.perf_counter() - t) / 1e9)
            assert all(np.array_equal(p, a) for p in pulled), "pull returned different data"
            del pulled
        emit(impl, "push_64MiB_GBps", best_push)
        emit(impl, "pull_64MiB_GBps", best_pull)
    finally:
        rc.close()
        cluster.stop_cluster_sync()


def whoami(seconds):
    import os
    import time
    time.sleep(seconds)
    return os.getpid()


def run_scale(ipp, impl, args, **cluster_kw):
    """One cluster of args.engines engines: how long until all are registered, tiny-task throughput across all of
    them, and a map of sleeps long enough that the balancer must give every engine work (the check that all of them
    serve, not only registered)."""
    n = args.engines
    t = time.perf_counter()
    cluster = ipp.Cluster(n=n, **cluster_kw)
    rc = cluster.start_and_connect_sync()
    try:
        rc.wait_for_engines(n, timeout=args.timeout)
        emit(impl, "cluster_start_s", time.perf_counter() - t, engines=n)
        lb = rc.load_balanced_view()
        emit(impl, "lb_tiny_tasks_per_s", _tiny_tasks_per_s(lb.apply_async, lambda ar: ar.get(), args), engines=n)
        # each engine busy 0.2 s per item: n engines take 2n items in ~0.4 s, one engine alone would need 0.4 n s
        pids = lb.map_sync(whoami, [0.2] * (2 * n), chunksize=1)
        served = len(set(pids))
        if served != n:
            raise AssertionError(f"{impl}: a load-balanced map over {n} engines ran on only {served} of them")
        print(f"parallel_bench: {impl}, {n} engines: a load-balanced map ran on all {served}", file=sys.stderr,
              flush=True)
    finally:
        rc.close()
        cluster.stop_cluster_sync()


def run_futures(args):
    from mpi4py.futures import MPIPoolExecutor
    impl = "mpi4py.futures"
    ex = MPIPoolExecutor(max_workers=2)
    # a pool that cannot start leaves bootup() waiting forever (mpi4py reports it on another thread): bound it
    import threading
    booted = threading.Thread(target=ex.bootup, kwargs={"wait": True}, daemon=True)
    booted.start()
    booted.join(120)
    if booted.is_alive():
        print("parallel_bench: mpi4py.futures workers did not start within 120 s", file=sys.stderr)
        sys.stderr.flush()
        os._exit(3)
    emit(impl, "cluster_start_s", time.time() - float(os.environ["PARALLEL_BENCH_LAUNCHED"]))
    try:
        emit(impl, "apply_roundtrip_us", _roundtrip_us(lambda: ex.submit(noop).result(), args.roundtrips))
        emit(impl, "lb_tiny_tasks_per_s", _tiny_tasks_per_s(ex.submit, lambda f: f.result(), args))
        items = list(range(args.map_items))
        t = time.perf_counter()
        out = list(ex.map(identity, items, chunksize=1))
        emit(impl, "map_items_per_s", args.map_items / (time.perf_counter() - t))
        assert out == items
    finally:
        ex.shutdown(wait=True)


def child(args):
    if args.engines:
        if args.impl == "ours":
            import pympibridge.parallel as ipp
            run_scale(ipp, "ours", args, engine_timeout=args.timeout)
        else:
            import ipyparallel as ipp
            run_scale(ipp, "ipyparallel", args, engine_launcher_class="MPI", log_level=40,
                      engine_timeout=int(args.timeout))
    elif args.impl == "ours":
        import pympibridge.parallel as ipp
        run_ipp_style(ipp, "ours", args)
    elif args.impl == "ipyparallel":
        import ipyparallel as ipp
        run_ipp_style(ipp, "ipyparallel", args, engine_launcher_class="MPI", log_level=40)
    else:
        run_futures(args)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--impl", choices=IMPLS, action="append", help="run only these (default: all)")
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--map-items", type=int, default=20000)
    p.add_argument("--roundtrips", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5, help="best of this many rounds for tiny tasks and push/pull (same for the C# worker)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per implementation")
    p.add_argument("--scale", action="store_true", help="ours and ipyparallel on clusters of growing size")
    p.add_argument("--engines", default="2,8,32,128", help="cluster sizes for --scale (comma-separated)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.impl = args.impl[0]
        args.engines = int(args.engines) if args.scale else None
        child(args)
        return 0
    if args.scale:
        return scale(args)
    status = 0
    for impl in args.impl or IMPLS:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--impl", impl, "--tasks", str(args.tasks),
               "--map-items", str(args.map_items), "--roundtrips", str(args.roundtrips), "--rounds", str(args.rounds)]
        if impl == "mpi4py.futures":  # the client and its 2 workers as one MPI job (see the docstring)
            cmd = ["mpiexec", "-n", "3", cmd[0], "-m", "mpi4py.futures", *cmd[1:]]
        env = dict(os.environ, PARALLEL_BENCH_LAUNCHED=repr(time.time()))
        status |= _run_child(impl, cmd, env, args.timeout)
    return status


def scale(args):
    try:
        sizes = [int(x) for x in args.engines.split(",") if x.strip()]
        if not sizes or min(sizes) < 1:
            raise ValueError
    except ValueError:
        print(f"parallel_bench: --engines takes engine counts of at least 1 separated by commas, not {args.engines!r}",
              file=sys.stderr)
        return 2
    impls = [i for i in (args.impl or ("ours", "ipyparallel")) if i != "mpi4py.futures"]
    status = 0
    for n in sizes:
        for impl in impls:
            # on 2 cores every engine's start costs about a second of CPU: give large clusters their time
            timeout = args.timeout + 5 * n
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--scale", "--engines", str(n), "--impl", impl,
                   "--tasks", str(args.tasks), "--rounds", "1", "--timeout", str(timeout)]
            print(f"parallel_bench: {impl} with {n} engines", file=sys.stderr, flush=True)
            status |= _run_child(impl, cmd, dict(os.environ), timeout + 60)
    return status


def _run_child(impl, cmd, env, timeout):
    try:
        r = subprocess.run(cmd, timeout=timeout, stdout=subprocess.PIPE, text=True, env=env)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            print(f"parallel_bench: {impl} failed with exit code {r.returncode}", file=sys.stderr)
            return 1
    except subprocess.TimeoutExpired as e:
        sys.stdout.write(e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or ""))
        print(f"parallel_bench: {impl} did not finish within {timeout} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
