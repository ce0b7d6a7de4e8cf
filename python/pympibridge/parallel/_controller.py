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
from . import _launch
from . import _protocol as P
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
                 mpi_args=(), engine_timeout=60.0):
        self.n = n
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
        self.engines = {}          # id -> dict(uuid, url, pid, host, alive, queue, completed)
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
        engine_ip = "0.0.0.0" if self.ip in ("*", "0.0.0.0", "") else self.ip
        _files.write_private_json(self.engine_file, dict(common, engine_ip=engine_ip))
        _files.write_private_json(self.client_file, common)

    def start_engines(self):
        self.engines_stopping = False
        self.engines_exit_code = None
        self.generation += 1
        cmd = _launch.pympi_command() + ["run", "-n", str(self.n)] + self.mpi_args + \
            ["-m", "pympibridge.parallel._engine", self.engine_file]
        logpath = _files.log_file(self.profile, self.cluster_id, "engines")
        log.info("starting %d engines: %s (output in %s)", self.n, " ".join(cmd), logpath)
        out = open(logpath, "ab")
        self.process = subprocess.Popen(cmd, cwd=self.workdir, env=_launch.engine_environment(), stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        proc, generation = self.process, self.generation
        threading.Thread(target=self._watch_engines, args=(proc, generation), daemon=True,
                         name="engine-watch").start()

    def _watch_engines(self, proc, generation):
        code = proc.wait()
        if self.stopping.is_set() or generation != self.generation:
            return
        log.error("the engines' MPI job ended (exit code %s)", code)
        with self.lock:
            for eid, e in self.engines.items():
                if e["alive"]:
                    self._engine_died(eid, f"the engines' MPI job ended with exit code {code}")
            self.engines_exit_code = code
            # clients waiting for engines that will never register learn it now, not at their timeout
            self._broadcast(dict(self._engines_ended(), event="engines_ended"))

    def _engines_ended(self):
        """What clients are told when the engines' MPI job is over: its exit code and where its output is."""
        return {"code": self.engines_exit_code, "log": _files.log_file(self.profile, self.cluster_id, "engines")}

    def stop_engines(self, timeout=5.0):
        self.engines_stopping = True
        proc = self.process
        with self.lock:
            peers = list(self.engine_peers.values())
        for peer in peers:
            try:
                peer.send({"op": "shutdown"})
            except OSError:
                pass
        if proc is None:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("engines did not stop within %.0f s: terminating them", timeout)
            self._kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                self._kill_group(proc, signal.SIGKILL)
                proc.wait()
        self._kill_group(proc, signal.SIGKILL)  # stragglers of the session (an orphaned rank) go too

    @staticmethod
    def _kill_group(proc, sig):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def restart_engines(self):
        self.stop_engines()
        with self.lock:
            self.engines.clear()
            self.engine_peers.clear()
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

    def _register_engine(self, peer, msg):
        eid = int(msg["id"])
        info = {"uuid": msg["uuid"], "url": msg["url"], "ipc": msg.get("ipc"), "pid": msg.get("pid"),
                "host": msg.get("host"),
                "alive": True, "queue": 0, "completed": 0}
        with self.lock:
            self.engines[eid] = info
            self.engine_peers[eid] = peer
        peer.ident["id"] = eid
        peer.send({"ok": True})
        log.info("engine %d registered at %s", eid, info["url"])
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
        """Sends a signal to engines (SIGINT interrupts the running task: it fails with KeyboardInterrupt)."""
        sig = int(msg.get("signal", signal.SIGINT))
        with self.lock:
            pids = {eid: e["pid"] for eid, e in self.engines.items() if e["alive"] and
                    (msg.get("targets") is None or eid in msg["targets"])}
        for pid in pids.values():
            try:
                os.kill(int(pid), sig)
            except (ProcessLookupError, PermissionError, TypeError, ValueError):
                pass
        return {"signalled": sorted(pids)}, []

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
    parser.add_argument("-n", "--n", type=int, required=True, help="number of engines (MPI ranks)")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cluster-id", default="")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on ('*' = every interface)")
    parser.add_argument("--location", default=None, help="address clients and engines use to reach this host")
    parser.add_argument("--db", default="memory", choices=["memory", "sqlite", "none"])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--mpi-arg", action="append", default=[], help="extra argument for `pympi run`")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"-n must be at least 1 (got {args.n})")
    logging.basicConfig(level=os.environ.get("PYMPI_LOG_LEVEL", "WARNING").upper(),
                        format="[controller] %(levelname)s %(message)s")
    ctl = Controller(args.n, args.profile, args.cluster_id, args.ip, args.db, args.location, args.workdir,
                     args.mpi_arg)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: threading.Thread(target=ctl.shutdown, daemon=True).start())
    ctl.write_files()
    ctl.start_engines()
    print(f"controller listening at {ctl.url}; connection file {ctl.client_file}", flush=True)
    ctl.serve()


if __name__ == "__main__":
    main()
