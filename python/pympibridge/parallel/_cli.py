"""``pympi cluster start|stop|list``: the ``ipcluster`` of this product (run by the pympi tool with the interpreter
it embeds, or directly as ``python -m pympibridge.parallel._cli``)."""

import argparse
import os
import signal
import sys
import time

from . import _files
from . import _launch
from . import _slurm


def _start(args):
    if args.n < 0:
        sys.exit(f"pympi cluster start: -n must be 0 (engines join with 'pympi cluster engines') or more "
                 f"(got {args.n})")
    path = _files.client_file(args.profile, args.cluster_id)
    log_path = _files.log_file(args.profile, args.cluster_id, "controller")
    try:
        _launch.refuse_if_running(args.profile, args.cluster_id,
                                  "stop it with 'pympi cluster stop' or choose --cluster-id")
        proc = _launch.start_controller(args.n, args.profile, args.cluster_id, args.ip, args.db, os.getcwd(),
                                        args.location, log_path=log_path if args.daemon else None,
                                        launcher=args.launcher, sbatch_args=args.sbatch_arg)
    except RuntimeError as e:
        sys.exit(f"pympi cluster start: {e}")
    try:
        client = _wait_ready(proc, path, args.n, args.timeout, log_path)
    except BaseException as e:
        job = _slurm.recorded_job(path)
        state = f"; {_slurm.describe_job(job)}" if job and not isinstance(e, KeyboardInterrupt) else ""
        _launch.stop_controller(proc)
        if job:
            _slurm.cancel(job)  # the controller cancels it on the way out; not if it had to be killed
        if isinstance(e, KeyboardInterrupt):
            sys.exit(130)
        sys.exit(f"pympi cluster start: {e}{state}")
    print(f"cluster ready: {len(client.ids)} MPI engines, controller {client._config['controller']} "
          f"(pid {proc.pid}); connect with ipp.Client("
          f"{'' if args.profile == 'default' and not args.cluster_id else repr_args(args)})", flush=True)
    print(f"connection file: {path}", flush=True)
    print(f"engines on other hosts: copy {_files.engine_file(args.profile, args.cluster_id)} there and run "
          f"'pympi cluster engines --connect FILE -n N'", flush=True)
    client.close()
    if args.daemon:
        return 0
    print("press Ctrl-C to stop the cluster", flush=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _launch.stop_controller(proc)
        return 0


def repr_args(args):
    parts = []
    if args.profile != "default":
        parts.append(f"profile={args.profile!r}")
    if args.cluster_id:
        parts.append(f"cluster_id={args.cluster_id!r}")
    return ", ".join(parts)


def _wait_ready(proc, path, n, timeout, log_path):
    from .client import Client
    deadline = time.monotonic() + timeout
    try:
        _launch.wait_for_controller(proc, path, timeout)
    except RuntimeError as e:
        raise RuntimeError(f"{e} (its log: {log_path}, when started with --daemon)") from None
    client = Client(url_file=path, timeout=max(1.0, deadline - time.monotonic()))
    client.wait_for_engines(n, timeout=max(1.0, deadline - time.monotonic()))
    return client


def _stop(args):
    targets = [(p, c, d, alive) for p, c, d, alive in _files.list_clusters()
               if args.all or (p == args.profile and c == args.cluster_id)]
    if not targets:
        sys.exit(f"pympi cluster stop: no cluster for profile {args.profile!r}"
                 f"{' id ' + repr(args.cluster_id) if args.cluster_id else ''} (see 'pympi cluster list')")
    status = 0
    for profile, cluster_id, data, alive in targets:
        name = f"{profile}:{cluster_id or '(default)'}"
        pid = data.get("pid", -1)
        if not alive:
            if data.get("slurm_job"):
                _slurm.cancel(data["slurm_job"])  # the controller died: its engines' job must not run on
            _remove_files(profile, cluster_id)
            print(f"{name}: not running (stale connection file removed"
                  f"{', engines job ' + str(data['slurm_job']) + ' cancelled' if data.get('slurm_job') else ''})")
            continue
        try:
            from .client import Client
            client = Client(url_file=_files.client_file(profile, cluster_id), timeout=5)
            client.shutdown(hub=True)
            client.close()
        except Exception as e:  # fall back to a signal: the controller stops its engines on SIGTERM
            print(f"{name}: asking the controller failed ({e}); sending SIGTERM", file=sys.stderr)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not _wait_gone(pid, args.timeout):
            print(f"{name}: controller {pid} still running after {args.timeout} s; killing it", file=sys.stderr)
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            status = 1
        if data.get("slurm_job"):
            _slurm.cancel(data["slurm_job"])  # a no-op when the controller ended it; its end when the controller died
        _remove_files(profile, cluster_id)
        print(f"{name}: stopped")
    return status


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while _files.pid_alive(pid):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _remove_files(profile, cluster_id):
    for path in (_files.client_file(profile, cluster_id), _files.engine_file(profile, cluster_id)):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _engines(args):
    """``pympi cluster engines``: the ``ipengine`` of this product. An MPI job of N engines (``pympi run -n N -m
    pympibridge.parallel._engine``) joins the cluster whose connection file is given, typically from another host;
    it runs in the foreground until the cluster stops (or Ctrl-C) and exits with the job's code."""
    import subprocess
    if args.n < 1:
        sys.exit(f"pympi cluster engines: -n must be at least 1 (got {args.n})")
    try:
        config = _files.read_json(args.connect)
        bytes.fromhex(config["key"])
        controller = config["controller"]
    except FileNotFoundError:
        sys.exit(f"pympi cluster engines: connection file {args.connect} does not exist (copy the cluster's "
                 "ipcontroller-engine.json or ipcontroller-client.json from the controller's host)")
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"pympi cluster engines: {args.connect} is not a cluster connection file ({type(e).__name__}: {e})")
    if controller.startswith("tcp://127.") or controller.startswith("tcp://localhost:"):
        print(f"pympi cluster engines: warning: the controller listens on {controller}, reachable from its own host "
              "only; engines on other hosts need a cluster started with --ip (and --location)", file=sys.stderr)
    try:
        cmd = _launch.pympi_command()
    except RuntimeError as e:
        sys.exit(f"pympi cluster engines: {e}")
    cmd += ["run", "-n", str(args.n), *args.mpi_arg, "-m", "pympibridge.parallel._engine",
            os.path.abspath(args.connect), "--ip", args.ip]
    if args.location:
        cmd += ["--location", args.location]
    print(f"starting {args.n} engines for the cluster at {controller}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, env=_launch.engine_environment())
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the engines got the Ctrl-C too (same process group) and stop
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            return 130


def _list(args):
    clusters = _files.list_clusters()
    if not clusters:
        print(f"no clusters (connection files live in {_files.base_dir()})")
        return 0
    print(f"{'PROFILE':<12} {'CLUSTER ID':<24} {'ENGINES':>7} {'STATE':<8} {'PID':>7}  CONTROLLER")
    for profile, cluster_id, data, alive in clusters:
        print(f"{profile:<12} {cluster_id or '(default)':<24} {data.get('n', '?'):>7} "
              f"{'running' if alive else 'stale':<8} {data.get('pid', '?'):>7}  {data.get('controller', '?')}"
              + (f" (engines: Slurm job {data['slurm_job']})" if data.get("slurm_job") else ""))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pympi cluster", description="Start, stop and list clusters of MPI "
                                     "engines (each engine a PyMpiBridge rank) for pympibridge.parallel.")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a controller and N MPI engines")
    start.add_argument("-n", "--n", type=int, required=True,
                       help="number of engines (MPI ranks); 0: a controller alone, engines join with 'engines'")
    start.add_argument("--profile", default="default")
    start.add_argument("--cluster-id", default="")
    start.add_argument("--daemon", action="store_true", help="return once the cluster is ready; it keeps running")
    start.add_argument("--ip", default="127.0.0.1",
                       help="address to listen on (default loopback; '*' opens the cluster to other hosts)")
    start.add_argument("--location", default=None, help="address other hosts use to reach this one")
    start.add_argument("--db", default="memory", choices=["memory", "sqlite", "none"], help="task database")
    start.add_argument("--timeout", type=float, default=120, help="seconds to wait for the engines")
    start.add_argument("--launcher", default="local", choices=["local", "slurm"],
                       help="local: engines are a `pympi run` here; slurm: a batch job of N tasks (sbatch)")
    start.add_argument("--sbatch-arg", action="append", default=[],
                       help="one more option for the engines' batch job (repeat: --sbatch-arg=--time=30)")
    stop = sub.add_parser("stop", help="stop a cluster (engines and controller)")
    stop.add_argument("--profile", default="default")
    stop.add_argument("--cluster-id", default="")
    stop.add_argument("--all", action="store_true", help="stop every cluster")
    stop.add_argument("--timeout", type=float, default=20)
    sub.add_parser("list", help="list clusters and whether they run")
    engines = sub.add_parser("engines", help="start N MPI engines that join a running cluster (ipengine)")
    engines.add_argument("--connect", required=True, help="the cluster's connection file (engine or client json)")
    engines.add_argument("-n", "--n", type=int, required=True, help="number of engines (MPI ranks)")
    engines.add_argument("--ip", default="auto", help="address the engines listen on (default 'auto': the one this "
                         "host reaches the controller from)")
    engines.add_argument("--location", default=None, help="address clients use to reach the engines")
    engines.add_argument("--mpi-arg", action="append", default=[], help="one more word for 'pympi run'")
    args = parser.parse_args(argv)
    if args.command == "start" and args.sbatch_arg and args.launcher != "slurm":
        parser.error("--sbatch-arg applies to --launcher slurm only")
    return {"start": _start, "stop": _stop, "list": _list, "engines": _engines}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
