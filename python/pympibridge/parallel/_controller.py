"""The controller of a cluster (the ``ipcontroller`` of this product): ``python -m pympibridge.parallel._controller``.

It starts the engines (an MPI job of PyMpiBridge ranks), keeps the registry of engines that clients read, watches
them (an engine whose connection drops, or whose MPI job ends, is dead: clients are told at once and fail that
engine's outstanding tasks with EngineError), keeps the task database from the records engines send in batches, and
answers the hub's queries (queue_status, db_query, hub_history, get_result, purge_results, shutdown).

It is not on the task path: clients talk to engines directly. Every connection is authenticated with the cluster key
(see ``_wire``); one without it is logged and closed. It binds to loopback unless given ``--ip``.
"""

import argparse
import json
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time

from . import _db
from . import _files
from . import _limits
from . import _launch
from . import _protocol as P
from . import _slurm
from . import _wire

log = logging.getLogger("pympibridge.parallel.controller")




def _from_jsonable(value):
    """A query as the client sent it: datetimes travel as {'$datetime': unix time} (client._jsonable_query)."""
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return P.utc_datetime(value["$datetime"])
        return {k: _from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


class _Peer:
    def __init__(self, sock, role, ident):
        self.sock = sock
        self.role = role
        self.ident = ident
        self.lock = threading.Lock()
        self.alive = True

    def send(self, message, blobs=()):
        with self.lock:
            _wire.send_frame(self.sock, [json.dumps(message).encode(), *blobs])


class Controller:
    def __init__(self, n, profile=None, cluster_id="", ip="127.0.0.1", db="memory", location=None, workdir=None,
                 mpi_args=(), engine_timeout=60.0, launcher="local", sbatch_args=()):
        self.n = n
        self.launcher = launcher
        self.sbatch_args = list(sbatch_args)
        self.profile = profile or "default"
        self.cluster_id = cluster_id or ""
        self.ip = ip
        self.workdir = workdir or os.getcwd()
        self.mpi_args = list(mpi_args)
        self.engine_timeout = engine_timeout
        self.key = os.urandom(32)
        self.listener = _wire.listen(ip)
        self.url = _wire.url_of(self.listener, location or (None if ip in ("*", "0.0.0.0", "") else ip))
        db_path = os.path.join(_files.profile_dir(self.profile), f"tasks-{self.cluster_id or 'default'}.db")
        self.db = _db.make_db(db, db_path if db == "sqlite" else None)
        self.db_kind = db
        self.journal = []
        self.journal_records = 0
        self.journal_lock = threading.Lock()
        self.db_lock = threading.Lock()
        self.journal_event = threading.Event()
        self.lock = threading.RLock()
        self.engines_exit_code = None  # set when the engines' MPI job ends on its own
        self.engines = {}          # id -> dict(uuid, url, pid, host, job, alive, queue, completed)
        self.own_job = None        # the job token of the engines this controller started (their ids = ranks)
        self.job_bases = {}        # job token of engines that joined -> first id of its block
        self.next_id = n           # ids 0..n-1 belong to the controller's own engines
        self.engine_peers = {}     # id -> _Peer
        self.clients = set()
        self.process = None
        self.engines_stopping = False
        self.generation = 0
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self.client_file = _files.client_file(self.profile, self.cluster_id)
        self.engine_file = _files.engine_file(self.profile, self.cluster_id)

    # ---- files and engines -------------------------------------------------------------------------------------

    def write_files(self):
        common = {"key": self.key.hex(), "controller": self.url, "cluster_id": self.cluster_id,
                  "profile": self.profile, "pid": os.getpid(), "n": self.n, "db": self.db_kind,
                  "created": time.time(), "workdir": self.workdir}
        if getattr(self.process, "job_id", None) is not None:
            common["slurm_job"] = self.process.job_id  # `pympi cluster stop` cancels it even without us
        engine_ip = "0.0.0.0" if self.ip in ("*", "0.0.0.0", "") else self.ip
        _files.write_private_json(self.engine_file, dict(common, engine_ip=engine_ip))
        _files.write_private_json(self.client_file, common)

    def start_engines(self):
        self.engines_stopping = False
        self.engines_exit_code = None
        self.generation += 1
        if self.n == 0:
            log.info("no engines of its own: engines join with 'pympi cluster engines --connect %s -n N'",
                     self.engine_file)
            return
        self.own_job = f"{os.getpid()}-{self.generation}-{os.urandom(4).hex()}"
        cmd = _launch.pympi_command() + ["run", "-n", str(self.n)] + self.mpi_args + \
            ["-m", "pympibridge.parallel._engine", self.engine_file]
        logpath = _files.log_file(self.profile, self.cluster_id, "engines")
        log.info("starting %d engines: %s (output in %s)", self.n, " ".join(cmd), logpath)
        env = dict(_launch.engine_environment(), PYMPI_ENGINE_JOB=self.own_job)  # the job token: ids = ranks
        if self.launcher == "slurm":
            self.process = _slurm.SlurmEngines.submit(
                self.n, cmd, self.workdir, env, logpath,
                _slurm.script_path(_files.profile_dir(self.profile), self.cluster_id),
                _slurm.job_name(self.profile, self.cluster_id), self.sbatch_args)
            self.write_files()  # with the job id
        else:
            with open(logpath, "ab") as out:
                self.process = _launch.LocalEngines(cmd, cwd=self.workdir, env=env, stdout=out,
                                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                    start_new_session=True)
        log.info("engines: %s", self.process.describe())
        proc, generation = self.process, self.generation
        threading.Thread(target=self._watch_engines, args=(proc, generation), daemon=True,
                         name="engine-watch").start()

    def _watch_engines(self, proc, generation):
        if isinstance(proc, _slurm.SlurmEngines):
            self._warn_if_out_of_reach(proc)
        code = proc.wait()
        if self.stopping.is_set() or self.engines_stopping or generation != self.generation:
            return  # stopped on purpose (a shutdown, a restart)
        log.error("the engines' MPI job ended (exit code %s)", code)
        with self.lock:
            for eid, e in self.engines.items():
                if e["alive"] and self._started_here(eid):  # engines that joined are another job, still running
                    self._engine_died(eid, f"the engines' MPI job ended with exit code {code}")
            self.engines_exit_code = code
            # clients waiting for engines that will never register learn it now, not at their timeout
            self._broadcast(dict(self._engines_ended(), event="engines_ended"))

    def _engines_ended(self):
        """What clients are told when the engines' MPI job is over: its exit code and where its output is."""
        return {"code": self.engines_exit_code, "log": _files.log_file(self.profile, self.cluster_id, "engines")}

    def _warn_if_out_of_reach(self, job):
        """Engines a Slurm job runs on other nodes cannot reach a controller bound to loopback: say so once it runs."""
        while job.poll() is None and job.node_list is None and not self.stopping.is_set():
            time.sleep(job.poll_interval)
        if job.runs_elsewhere() and self.ip in ("127.0.0.1", "localhost", "::1"):
            log.error("the engines' %s runs on %s, but this controller listens on %s only: they cannot register. "
                      "Start the cluster with --ip '*' (and --location ADDR if this host's name does not reach it).",
                      job.describe(), job.node_list, self.ip)

    def _started_here(self, eid):
        """Whether engine ``eid`` belongs to the job this controller started (not to a job that joined it)."""
        return self.engines.get(eid, {}).get("job") in (None, self.own_job)

    def stop_engines(self, timeout=5.0, own_only=False):
        """Stops every engine (``own_only``: only those of the job this controller started; joined jobs keep running)."""
        self.engines_stopping = True
        proc = self.process
        with self.lock:
            peers = [p for eid, p in self.engine_peers.items() if not own_only or self._started_here(eid)]
        for peer in peers:
            try:
                peer.send({"op": "shutdown"})
            except OSError:
                pass
        if proc is None:
            return
        if not peers and proc.waiting_in_queue():
            proc.signal_all(signal.SIGKILL)  # a batch job still queued has no engine to tell: cancel it now
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("engines did not stop within %.0f s: terminating them", timeout)
            proc.signal_all(signal.SIGTERM)
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.signal_all(signal.SIGKILL)
                proc.wait()
        proc.signal_all(signal.SIGKILL)  # stragglers (a rank orphaned in the session; a job step still ending) go too

    def restart_engines(self):
        """Stops and starts the engines this controller started, as ipyparallel restarts the engine sets its Cluster
        launched: engines that joined with ``pympi cluster engines`` keep running, with their ids and namespaces."""
        self.stop_engines(own_only=True)
        with self.lock:
            for eid in [eid for eid in self.engines if self._started_here(eid)]:
                del self.engines[eid]
                self.engine_peers.pop(eid, None)
        self._broadcast({"event": "engines_reset"})
        self.start_engines()

    # ---- connections -------------------------------------------------------------------------------------------

    def serve(self):
        threading.Thread(target=self._accept_loop, daemon=True, name="accept").start()
        if self.db is not None:
            threading.Thread(target=self._journal_filer, daemon=True, name="journal").start()
        self.stopped.wait()

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                sock, addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_peer, args=(sock, addr), daemon=True).start()

    def _serve_peer(self, sock, addr):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ident = _wire.server_handshake(sock, self.key, {"controller": True})
        except (OSError, ValueError) as e:
            log.warning("refused a connection from %s:%s: %s", addr[0], addr[1], e)
            sock.close()
            return
        role = ident.get("role")
        peer = _Peer(sock, role, ident)
        reader = _wire.FrameReader(sock)
        if role == "client":
            with self.lock:
                self.clients.add(peer)
        try:
            while True:
                frame = reader.read_frame()
                self._handle(peer, json.loads(frame[0]), frame[1:])
        except (OSError, ValueError):
            pass
        finally:
            peer.alive = False
            sock.close()
            with self.lock:
                self.clients.discard(peer)
                eid = ident.get("id") if role == "engine" else None
                if eid is not None and self.engine_peers.get(eid) is peer:
                    self._engine_died(eid, "its connection to the controller closed (the engine process died?)")

    def _engine_died(self, eid, reason):
        e = self.engines.get(eid)
        if e is None or not e["alive"]:
            return
        e["alive"] = False
        self.engine_peers.pop(eid, None)
        if self.engines_stopping:
            log.info("engine %s stopped", eid)
        else:
            log.error("engine %s is dead: %s", eid, reason)
        self._broadcast({"event": "engine_died", "id": eid, "reason": reason})

    def _broadcast(self, event):
        with self.lock:
            clients = list(self.clients)
        for c in clients:
            try:
                c.send(event)
            except OSError:
                pass

    # ---- requests ----------------------------------------------------------------------------------------------

    def _handle(self, peer, msg, blobs):
        op = msg.get("op")
        if peer.role == "engine":
            if op == "register_engine":
                self._register_engine(peer, msg)
            elif op == "records":
                self._records(msg, blobs)
            return
        rid = msg.get("id")
        try:
            handler = getattr(self, "_op_" + str(op), None)
            if handler is None:
                raise ValueError(f"unknown controller request {op!r}")
            reply, out_blobs = handler(msg)
            reply = dict(reply, ok=True, id=rid)
        except Exception as e:  # a bad request gets an answer, never a dead controller
            reply, out_blobs = {"ok": False, "id": rid, "error": f"{type(e).__name__}: {e}"}, []
        peer.send(reply, out_blobs)

    def _engine_id(self, msg):
        """The cluster-wide id of a registering engine (PROTOCOL.md, "Engine ids"): its MPI rank when it belongs to
        the job this controller started (or says no job); else base + rank, where each other job gets a block of
        ``size`` ids after every id handed out so far. Call with the lock held."""
        rank, job = int(msg.get("rank", msg["id"])), msg.get("job")
        if job is None or job == self.own_job:
            return rank
        base = self.job_bases.get(job)
        if base is None:
            base = self.job_bases[job] = max([self.next_id, *(e + 1 for e in self.engines)])
            self.next_id = base + max(1, int(msg.get("size", 1)))
        return base + rank

    def _register_engine(self, peer, msg):
        info = {"uuid": msg["uuid"], "url": msg["url"], "ipc": msg.get("ipc"), "pid": msg.get("pid"),
                "host": msg.get("host"), "job": msg.get("job"),
                "alive": True, "queue": 0, "completed": 0}
        with self.lock:
            eid = self._engine_id(msg)
            taken = self.engines.get(eid)
            if taken is not None and taken["alive"]:
                error = (f"engine id {eid} is taken by the live engine on {taken['host']} (pid {taken['pid']}); "
                         "engines that join a cluster must be started with 'pympi cluster engines'")
                log.error("refused an engine from %s: %s", msg.get("host"), error)
                peer.send({"ok": False, "error": error})
                return
            self.engines[eid] = info
            self.engine_peers[eid] = peer
        peer.ident["id"] = eid
        peer.send({"ok": True, "id": eid})
        log.info("engine %d (rank %s of %s) registered from %s at %s", eid, msg.get("rank", eid), msg.get("size", "?"),
                 info["host"], info["url"])
        self._broadcast({"event": "engine_registered", "id": eid, "url": info["url"], "uuid": info["uuid"],
                         "ipc": info["ipc"], "host": info["host"]})

    def _records(self, msg, blobs):
        eid = msg.get("engine_id")
        with self.lock:
            e = self.engines.get(eid)
            if e is not None:
                e["queue"] = msg.get("queue", 0)
                e["completed"] = msg.get("completed", 0)
        if self.db is None or not blobs:
            return
        # Filing a record costs ~20 us of CPU; during a burst of tiny tasks that CPU belongs to the engines and the
        # client. So batches are only kept as they came (a pickle each) and filed when the burst is over, or at
        # once when someone asks the database.
        with self.journal_lock:
            self.journal.append((time.time(), eid, e["uuid"] if e else None, bytes(blobs[0])))
            self.journal_records += 1
        self.journal_event.set()

    def _file_journal(self):
        """Moves journalled batches into the database (call before any database read)."""
        with self.journal_lock:
            batches, self.journal = self.journal, []
            self.journal_records = 0
        for received_ts, eid, uuid_, blob in batches:
            received = P.utc_datetime(received_ts)
            records = []
            for (session, seq, kind, submitted, started, completed, status, stdout, stderr, error, payload) in \
                    pickle.loads(blob):
                records.append({
                    "msg_id": f"{session}_{seq}", "client_uuid": session, "engine_uuid": uuid_, "engine_id": eid,
                    "method": P.KIND_NAMES.get(kind, "?"), "submitted": P.utc_datetime(submitted),
                    "started": P.utc_datetime(started), "completed": P.utc_datetime(completed), "received": received,
                    "status": P.STATUS_NAMES.get(status),
                    "stdout": stdout.decode(errors="replace"), "stderr": stderr.decode(errors="replace"),
                    "error": error, "result_buffers": payload})
            self.db.add_records(records)

    def _journal_filer(self):
        """Files the journal once records stop arriving for a moment (or it grows large); sleeps when idle."""
        while not self.stopping.is_set():
            self.journal_event.wait()
            self.journal_event.clear()
            while not self.stopping.is_set():
                # quiet for 200 ms, or 2,000 batches waiting: file now
                if not self.journal_event.wait(0.2) or len(self.journal) > 2000:
                    break
                self.journal_event.clear()
            with self.db_lock:
                self._file_journal()

    def _op_connect(self, msg):
        with self.lock:
            engines = {str(k): {"url": v["url"], "uuid": v["uuid"], "ipc": v["ipc"], "host": v["host"]}
                       for k, v in self.engines.items() if v["alive"]}
            ended = self._engines_ended() if self.engines_exit_code is not None else None
        return {"engines": engines, "n": self.n, "db": self.db_kind, "engines_ended": ended}, []

    def _op_queue_status(self, msg):
        with self.lock:
            status = {str(k): {"queue": v["queue"], "completed": v["completed"], "tasks": 0}
                      for k, v in self.engines.items() if v["alive"]}
        return {"status": status}, []

    def _need_db(self):
        if self.db is None:
            raise RuntimeError("this cluster keeps no task database (started with --db none)")
        with self.db_lock:
            self._file_journal()
        return self.db

    def _op_db_query(self, msg):
        keys = msg.get("keys")
        if isinstance(keys, str):
            keys = [keys]
        elif keys is None:
            # as ipyparallel's hub: every key but the result buffers (get_result fetches those)
            keys = [k for k in _db.SCHEMA if k != "result_buffers"]
        records = self._need_db().find_records(_from_jsonable(msg.get("query") or {}), keys)
        return {}, [pickle.dumps(records, protocol=5)]

    def _op_hub_history(self, msg):
        return {"history": self._need_db().get_history()}, []

    def _op_get_records(self, msg):
        records = self._need_db().get_records(list(msg.get("msg_ids") or []))
        return {}, [pickle.dumps(records, protocol=5)]

    def _op_purge_results(self, msg):
        db = self._need_db()
        if msg.get("all"):
            n = db.drop_matching_records({})
        else:
            n = 0
            for mid in msg.get("msg_ids") or []:
                db.drop_record(mid)
                n += 1
            for eid in msg.get("engine_ids") or []:
                n += db.drop_matching_records({"engine_id": eid})
        return {"dropped": n}, []

    def _op_signal(self, msg):
        """Sends a signal to engines (SIGINT interrupts the running task: it fails with KeyboardInterrupt). Only
        engines on this host: a pid from another host names an unrelated process here."""
        sig = int(msg.get("signal", signal.SIGINT))
        here = socket.gethostname()
        with self.lock:
            wanted = {eid: e for eid, e in self.engines.items() if e["alive"] and
                      (msg.get("targets") is None or eid in msg["targets"])}
        elsewhere = sorted(eid for eid, e in wanted.items() if e["host"] != here)
        if elsewhere:
            raise RuntimeError(f"engines {elsewhere} run on other hosts; the controller can signal only the engines "
                               f"on {here} (signal those where they run)")
        for e in wanted.values():
            try:
                os.kill(int(e["pid"]), sig)
            except (ProcessLookupError, PermissionError, TypeError, ValueError):
                pass
        return {"signalled": sorted(wanted)}, []

    def _op_restart_engines(self, msg):
        threading.Thread(target=self.restart_engines, daemon=True).start()
        return {}, []

    def _op_shutdown(self, msg):
        targets = msg.get("targets")
        if msg.get("hub") or targets is None:
            threading.Thread(target=self.shutdown, daemon=True).start()
            return {}, []
        with self.lock:
            peers = [self.engine_peers[t] for t in targets if t in self.engine_peers]
        for p in peers:
            p.send({"op": "shutdown"})
        return {}, []

    def shutdown(self):
        with self.lock:
            if self.stopping.is_set():
                return
            self.stopping.set()  # from here the engines' exit is expected (the watcher stays quiet)
        log.info("shutting down")
        try:
            self.stop_engines()
            for path in (self.client_file, self.engine_file):
                try:
                    if _files.read_json(path).get("pid") == os.getpid():
                        os.unlink(path)
                except (OSError, ValueError):
                    pass
            try:
                self.listener.close()
            except OSError:
                pass
            if self.db is not None:
                self.journal_event.set()
                with self.db_lock:
                    self._file_journal()  # an SQLite database keeps every record the engines sent
                    self.db.close()
        finally:
            # only now may main() return: the process exits with serve(), and this runs in a daemon thread, so
            # setting it earlier let the interpreter exit before the connection files were removed
            self.stopped.set()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pympibridge.parallel._controller",
                                     description="Starts a controller and N MPI engines (PyMpiBridge ranks).")
    parser.add_argument("-n", "--n", type=int, required=True,
                        help="number of engines (MPI ranks) to start; 0: engines join with 'pympi cluster engines'")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cluster-id", default="")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on ('*' = every interface)")
    parser.add_argument("--location", default=None, help="address clients and engines use to reach this host")
    parser.add_argument("--db", default="memory", choices=["memory", "sqlite", "none"])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--mpi-arg", action="append", default=[], help="extra argument for `pympi run`")
    parser.add_argument("--launcher", default="local", choices=["local", "slurm"],
                        help="local: the engines are a child `pympi run`; slurm: they are a batch job (sbatch)")
    parser.add_argument("--sbatch-arg", action="append", default=[], help="extra option for the engines' batch job")
    args = parser.parse_args(argv)
    _limits.raise_open_files_limit()  # a socket per engine and client
    if args.n < 0:
        parser.error(f"-n must be 0 (engines join later) or more (got {args.n})")
    logging.basicConfig(level=os.environ.get("PYMPI_LOG_LEVEL", "WARNING").upper(),
                        format="[controller] %(levelname)s %(message)s")
    ctl = Controller(args.n, args.profile, args.cluster_id, args.ip, args.db, args.location, args.workdir,
                     args.mpi_arg, launcher=args.launcher, sbatch_args=args.sbatch_arg)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: threading.Thread(target=ctl.shutdown, daemon=True).start())
    ctl.write_files()
    try:
        ctl.start_engines()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:  # sbatch refused, or no pympi to run
        log.error("the engines could not be started: %s", e)
        ctl.shutdown()
        sys.exit(f"the engines could not be started: {e}")
    print(f"controller listening at {ctl.url}; connection file {ctl.client_file}", flush=True)
    ctl.serve()


if __name__ == "__main__":
    main()
