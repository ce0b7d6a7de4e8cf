"""Client: the connection to a cluster, as ipyparallel's ``Client``.

It reads the cluster's connection file, authenticates with the controller (the engine registry, the task database)
and then with every engine, and sends tasks straight to the engines. One I/O thread receives replies for all engines
and completes the AsyncResults; it also runs the load balancer (the tasks of load-balanced views wait in this client
until an engine has room, so a finished task immediately makes room for the next).
"""

import collections
import itertools
import json
import logging
import os
import pickle
import selectors
import socket
import threading
import time
import uuid

from . import _files
from . import _limits
from . import _protocol as P
from . import _serialize
from . import _wire
from . import error
from ._balancer import LoadBalancer
from ._hub import HubQueries, _msg_ids
from .asyncresult import AsyncResult, ExecuteReply, make_metadata

log = logging.getLogger("pympibridge.parallel.client")

_SEQ_BASE = 1
# For this long after traffic, while tasks are outstanding, the I/O thread polls instead of sleeping: waking a
# sleeping thread costs ~40 us on these VMs, more than a tiny task's whole run. Idle, it sleeps and uses no CPU.
_HOT_SPIN = float(os.environ.get("PYMPI_CLIENT_SPIN_US", "300")) * 1e-6


class _EngineConn:
    __slots__ = ("id", "url", "uuid", "sock", "reader", "lock", "alive", "outstanding", "lb_outstanding",
                 "avg_task", "reason")

    def __init__(self, eid, url, uuid_, sock):
        self.id = eid
        self.url = url
        self.uuid = uuid_
        self.sock = sock
        self.reader = _wire.FrameReader(sock)
        self.lock = threading.Lock()
        self.alive = True
        self.outstanding = 0
        self.lb_outstanding = 0
        self.avg_task = 0.001       # seconds; learnt from replies, sets how many tasks the balancer queues here
        self.reason = ""

    def send(self, parts):
        with self.lock:
            _wire.send_frame(self.sock, parts)

    def hwm(self):
        # queue about a millisecond of work per engine: tiny tasks stream, long ones stay balanceable
        return max(1, min(256, int(0.001 / max(self.avg_task, 1e-6))))


class _Task:
    __slots__ = ("seq", "msg_id", "kind", "flags", "payload", "ar", "index", "engine", "lb", "retries", "tried",
                 "targets", "after", "follow", "deadline", "submitted", "fname")

    def __init__(self, seq, msg_id, kind, flags, payload, ar, index):
        self.seq = seq
        self.msg_id = msg_id
        self.kind = kind
        self.flags = flags
        self.payload = payload
        self.ar = ar
        self.index = index
        self.engine = None
        self.lb = False
        self.retries = 0
        self.tried = None
        self.targets = None
        self.after = None
        self.follow = None
        self.deadline = None
        self.submitted = 0.0


class Client(LoadBalancer, HubQueries):
    """A connection to a running cluster.

    ``Client()`` finds the default cluster's connection file; ``Client(profile=..., cluster_id=...)`` or
    ``Client(url_file=path)`` another one. ``timeout`` is how long to wait for the file and the connection.
    """

    def __init__(self, url_file=None, profile=None, cluster_id=None, timeout=10, sshserver=None, context=None,
                 debug=False, **kwargs):
        if sshserver:
            raise NotImplementedError("ssh tunnels are not supported: start the cluster with --ip and connect directly")
        self.profile = profile or "default"
        self.cluster_id = cluster_id or ""
        self._path = url_file or _files.client_file(self.profile, self.cluster_id)
        self._config = self._read_connection_file(self._path, timeout)
        self._key = bytes.fromhex(self._config["key"])
        self.session = uuid.uuid4().hex[:16]
        self._seq = itertools.count(_SEQ_BASE)
        self._lock = threading.RLock()
        self._progress = threading.Condition(self._lock)
        self._engines = {}
        self._pending = {}
        self._lb_queue = collections.deque()
        self._lb_waiting = []
        self._done_ok = set()
        self._done_failed = set()
        self.results = {}
        self._raw_md = {}
        self.history = []
        self._closed = False
        self._requests = {}
        self._resubmittable = {}
        self._dispatch_requested = False
        self._ctl_replies = {}
        self._ctl_ids = itertools.count(1)
        self._ctl_lock = threading.Lock()
        _limits.raise_open_files_limit()  # a socket per engine
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        try:
            self._ctl, _ = _wire.connect(self._config["controller"], self._key,
                                         {"role": "client", "session": self.session}, timeout=timeout)
        except (ConnectionRefusedError, socket.timeout, OSError) as e:
            if isinstance(e, _wire.AuthenticationFailed):
                raise
            raise OSError(f"the cluster in {self._path} does not answer at {self._config['controller']} ({e}); "
                          "it may have stopped: start one with ipp.Cluster(n=...).start_cluster_sync() or "
                          "'./pympi cluster start -n N'") from None
        self._ctl_reader = _wire.FrameReader(self._ctl)
        self._ctl_send_lock = threading.Lock()
        self._sel.register(self._ctl, selectors.EVENT_READ, "ctl")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        # the registry, read synchronously before the I/O thread owns the controller socket
        with self._ctl_send_lock:
            _wire.send_frame(self._ctl, [json.dumps({"op": "connect", "id": 0}).encode()])
        while True:
            frame = self._ctl_reader.read_frame()
            msg = json.loads(frame[0])
            if msg.get("id") == 0:
                break
            self._control_event(msg)
        self._engines_ended = msg.get("engines_ended")
        for eid, e in msg["engines"].items():
            self._add_engine(int(eid), e["url"], e["uuid"], e.get("ipc"), e.get("host"))
        self._io = threading.Thread(target=self._io_loop, name="pympi-client-io", daemon=True)
        self._io.start()
        from . import magics
        magics._register_on_client_creation(self)

    @staticmethod
    def _read_connection_file(path, timeout):
        deadline = time.monotonic() + (timeout or 0)
        while True:
            try:
                return _files.read_json(path)
            except FileNotFoundError:
                if time.monotonic() >= deadline:
                    raise OSError(
                        f"no cluster is running: the connection file {path} does not exist. Start one with "
                        "ipp.Cluster(n=4).start_and_connect_sync() or './pympi cluster start -n 4', or pass "
                        "profile=/cluster_id=/url_file= for another cluster.") from None
                time.sleep(0.05)
            except ValueError:
                if time.monotonic() >= deadline:
                    raise OSError(f"the connection file {path} is not valid JSON") from None
                time.sleep(0.05)

    # ---- engines -----------------------------------------------------------------------------------------------

    def _add_engine(self, eid, url, uuid_, ipc=None, host=None):
        with self._lock:
            old = self._engines.get(eid)
            if old is not None and old.alive and old.uuid == uuid_:
                return
        try:
            sock = None
            if ipc and host == socket.gethostname() and os.environ.get("PYMPI_PARALLEL_TRANSPORT") != "tcp":
                try:  # same host: a Unix socket (faster, and large arrays pass as memfds)
                    sock, _ = _wire.connect(ipc, self._key, {"role": "client", "session": self.session})
                except OSError:
                    sock = None  # another network namespace, say: TCP still works
            if sock is None:
                sock, _ = _wire.connect(url, self._key, {"role": "client", "session": self.session})
        except OSError as e:
            # registered but unreachable: remember why, so using it says so
            conn = _EngineConn(eid, url, uuid_, None)
            conn.alive = False
            conn.reason = f"unreachable at {url}: {e}"
            with self._lock:
                self._engines[eid] = conn
            return
        conn = _EngineConn(eid, url, uuid_, sock)
        with self._lock:
            self._engines[eid] = conn
            self._sel.register(sock, selectors.EVENT_READ, conn)
            self._dispatch_lb()
            self._progress.notify_all()

    @property
    def ids(self):
        """The ids of the engines that are alive, sorted."""
        with self._lock:
            return sorted(eid for eid, c in self._engines.items() if c.alive)

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        for eid in self.ids:
            yield self.direct_view(eid)

    def __getitem__(self, key):
        """``rc[0]``, ``rc[:]``, ``rc[::2]``, ``rc[[0, 2]]``: a DirectView on those engines."""
        if isinstance(key, str) or key is None:
            raise TypeError(f"index engines by int, slice or list, not {key!r}")
        return self.direct_view(key)

    def _build_targets(self, targets):
        """Engine ids for ``targets`` ('all'/None, an int, a list, a slice); raises for unknown engines."""
        ids = self.ids
        if targets is None or targets == "all":
            if not ids:
                raise error.NoEnginesRegistered()
            return ids
        if isinstance(targets, slice):
            chosen = ids[targets]
            if not chosen:
                raise IndexError(f"the slice {targets} selects no engine (engines: {ids})")
            return chosen
        if isinstance(targets, range):
            targets = list(targets)
        if isinstance(targets, int):
            if targets < 0:
                if not ids:
                    raise error.NoEnginesRegistered()
                targets = ids[targets]
            targets = [targets]
        out = []
        for t in targets:
            if not isinstance(t, int):
                raise TypeError(f"engine ids are ints, got {t!r}")
            conn = self._engines.get(t)
            if conn is None:
                raise IndexError(f"no engine with id {t} (engines: {ids})")
            if not conn.alive:
                raise error.EngineError(f"engine {t} is dead: {conn.reason}")
            out.append(t)
        return out

    def wait_for_engines(self, n=None, timeout=-1, block=True, interactive=None, widget=None):
        """Waits until ``n`` engines (default: as many as the cluster was started with) are registered."""
        if n is None:
            n = self._config.get("n", 1)
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        with self._progress:
            while len([c for c in self._engines.values() if c.alive]) < n:
                ended = self._engines_ended
                if ended is not None:
                    alive = len([c for c in self._engines.values() if c.alive])
                    raise error.EngineError(
                        f"the engines' MPI job ended with exit code {ended.get('code')} and {alive} of the {n} "
                        f"engines waited for are registered: no more will come (the engines' log is "
                        f"{ended.get('log')}; restart them with Cluster.restart_engines_sync() or start a new cluster)")
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"{len(self.ids)} engines registered, waited for {n} "
                                       f"(the engines' log is in {_files.log_dir(self.profile)})")
                self._progress.wait(0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
        return None

    # ---- views -------------------------------------------------------------------------------------------------

    def direct_view(self, targets="all", **kwargs):
        from .view import DirectView
        if targets != "all" and targets is not None:
            self._build_targets(targets)  # validate now: an unknown engine is reported at the call that named it
        return DirectView(self, targets=targets, **kwargs)

    def load_balanced_view(self, targets=None, **kwargs):
        from .view import LoadBalancedView
        if targets is not None and targets != "all":
            self._build_targets(targets)
        return LoadBalancedView(self, targets=targets, **kwargs)

    def broadcast_view(self, targets="all", is_coalescing=False, **kwargs):
        from .view import BroadcastView
        return BroadcastView(self, targets=targets, **kwargs)

    def executor(self, targets=None):
        """A ``concurrent.futures.Executor`` over a load-balanced view."""
        return self.load_balanced_view(targets).executor

    def activate(self, targets="all", suffix=""):
        view = self.direct_view(targets)
        view.block = True
        view.activate(suffix)
        return view

    # ---- submitting --------------------------------------------------------------------------------------------

    def _new_task(self, kind, flags, payload, ar=None, index=0):
        seq = next(self._seq)
        return _Task(seq, f"{self.session}_{seq}", kind, flags, payload, ar, index)

    def _send(self, task, eid, batch=None):
        """Sends ``task`` to engine ``eid`` (call with the lock held); with ``batch`` (a dict engine -> frames)
        the frame is only queued there, for ``_flush`` to send with the others in one system call."""
        conn = self._engines[eid]
        if not conn.alive:
            raise error.EngineError(f"engine {eid} is dead: {conn.reason}")
        task.engine = eid
        task.submitted = time.time()
        self._pending[task.seq] = task
        conn.outstanding += 1
        if task.lb:
            conn.lb_outstanding += 1
        frame = [P.REQUEST.pack(task.kind, task.flags, 0, 0, task.seq, task.submitted), *task.payload]
        if batch is not None:
            batch.setdefault(conn, []).append(frame)
            return
        try:
            conn.send(frame)
        except OSError as e:
            self._engine_lost(conn, f"sending to it failed: {e}")

    def _flush(self, batch):
        for conn, frames in batch.items():
            if not conn.alive:
                continue
            try:
                with conn.lock:
                    _wire.send_frames(conn.sock, frames)
            except OSError as e:
                self._engine_lost(conn, f"sending to it failed: {e}")

    def _submit_direct(self, kind, payload, targets, fname, flags=0, single=False, ar_cls=AsyncResult, **ar_kw):
        """One task per target engine; returns the AsyncResult."""
        shared = None
        if len(targets) > 1 and any(getattr(p, "nbytes", len(p)) >= _wire._FD_THRESHOLD for p in payload[1:]):
            # one copy into a memfd serves every engine on this host (each maps it copy-on-write)
            shared = [_wire.FdPart(p) if i and getattr(p, "nbytes", len(p)) >= _wire._FD_THRESHOLD else p
                      for i, p in enumerate(payload)]
            payload = shared
        tasks = [self._new_task(kind, flags, payload) for _ in targets]
        ar = ar_cls(self, [t.msg_id for t in tasks], fname=fname, targets=targets, single_result=single, **ar_kw)
        try:
            with self._lock:
                for i, (t, eid) in enumerate(zip(tasks, targets)):
                    t.ar, t.index = ar, i
                    self._send(t, eid)
                    t.payload = None  # sent: the buffers are the caller's again
                self.history.extend(t.msg_id for t in tasks)
        finally:
            for p in shared or ():
                if isinstance(p, _wire.FdPart):
                    p.close()
        return ar

    def _fail_task(self, task, exc, engine_id=None):
        """Completes ``task`` locally with ``exc`` (lock held)."""
        now = time.time()
        exc.engine_info = getattr(exc, "engine_info", None) or {"engine_id": engine_id, "method": "apply"}
        raw = (task.msg_id, engine_id, None, task.submitted, None, None, now, "error", "", "", None, None)
        self._complete(task, exc, raw, ok=False)

    def _complete(self, task, value, raw, ok):
        self._requests.pop(task.msg_id, None)
        (self._done_ok if ok else self._done_failed).add(task.msg_id)
        self.results[task.msg_id] = value
        self._raw_md[task.msg_id] = raw
        if task.ar is not None:
            task.ar._task_done(task.index, value, raw)

    # ---- receiving ---------------------------------------------------------------------------------------------

    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _io_loop(self):
        busy_until = 0.0
        while not self._closed:
            timeout = self._next_deadline()
            if self._pending and time.monotonic() < busy_until:
                timeout = 0  # replies are due within a round trip: look again instead of sleeping (see _HOT_SPIN)
            try:
                events = self._sel.select(timeout)
            except (OSError, ValueError):
                if self._closed:
                    return
                raise
            if events:
                busy_until = time.monotonic() + _HOT_SPIN
            for key, _ in events:
                try:
                    self._handle_event(key.data)
                except Exception:  # this thread must outlive any one bad event: every result arrives through it
                    log.exception("client %s: the I/O thread failed to handle an event; going on", self.session)
            if self._lb_waiting or self._lb_queue:
                with self._lock:
                    self._expire_timeouts()

    def _handle_event(self, what):
        if what == "wake":
            try:
                self._wake_r.recv(4096)
            except OSError:
                pass
            with self._lock:
                self._dispatch_requested = False
                self._dispatch_lb()
        elif what == "ctl":
            self._read_controller()
        else:
            self._read_engine(what)

    def _read_engine(self, conn):
        if not conn.alive:
            # lost since select() returned (an engine_died event earlier in the same batch, a send that failed on
            # another thread): its socket is closed, and reading it would end this thread
            return
        try:
            filled = conn.reader.fill()
            frames = conn.reader.frames() if filled else []
        except (OSError, ValueError) as e:
            with self._lock:
                self._engine_lost(conn, f"reading from it failed: {e}")
            return
        if not filled:
            with self._lock:
                self._engine_lost(conn, "its connection closed (the engine stopped or crashed)")
            return
        if not frames:
            return
        received = time.time()
        with self._lock:
            for frame in frames:
                self._reply(conn, frame, received)
            self._dispatch_lb()
            self._progress.notify_all()

    def _reply(self, conn, frame, received):
        status, flags, _u, _u2, seq, started, completed = P.REPLY.unpack(frame[0])
        task = self._pending.pop(seq, None)
        if task is None:
            return
        conn.outstanding -= 1
        if task.lb:
            conn.lb_outstanding -= 1
            if completed > started:
                conn.avg_task = 0.8 * conn.avg_task + 0.2 * (completed - started)
        stdout = frame[1].decode(errors="replace") if frame[1] else ""
        stderr = frame[2].decode(errors="replace") if frame[2] else ""
        execute_result = None
        if status == P.OK:
            if task.kind == P.EXECUTE:
                value = None
                if flags & P.HAS_RESULT:
                    d = pickle.loads(frame[3])
                    execute_result = ExecuteReply(conn.id, d["execution_count"], d["text/plain"])
                    value = execute_result  # ipyparallel: execute(...).get() is the ExecuteReply
            else:
                try:
                    value = _serialize.loads(frame[3:])
                except Exception as e:  # a result this client cannot unpickle is that task's error, not ours
                    value = error.RemoteError(type(e).__name__, f"could not load the result here: {e}", None,
                                              {"engine_id": conn.id, "method": P.KIND_NAMES.get(task.kind)})
                    status = P.ERROR
        else:
            content = pickle.loads(frame[3])
            if task.lb and status == P.ERROR and self._retry(task, conn.id):
                return  # failed here, retries left: the balancer sends it to an engine that has not tried it
            value = error.unwrap_exception(content)
        raw = (task.msg_id, conn.id, conn.uuid, task.submitted, started, completed, received,
               P.STATUS_NAMES[status], stdout, stderr,
               None if status == P.OK else (content if status != P.OK else None), execute_result)
        self._complete(task, value, raw, ok=status == P.OK)

    def _engine_lost(self, conn, reason):
        """The engine is gone: its outstanding tasks fail with EngineError (or are retried elsewhere)."""
        if not conn.alive:
            return
        conn.alive = False
        conn.reason = reason
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        try:
            conn.sock.close()
        except OSError:
            pass
        for seq, task in list(self._pending.items()):
            if task.engine != conn.id:
                continue
            del self._pending[seq]
            if task.lb and self._retry(task, conn.id):
                continue
            self._fail_task(task, error.EngineError(f"engine {conn.id} died while running this task: {reason}"),
                            engine_id=conn.id)
        self._dispatch_lb()
        self._progress.notify_all()

    def _read_controller(self):
        if not self._ctl_reader.fill():
            with self._lock:
                for conn in list(self._engines.values()):
                    self._engine_lost(conn, "the controller went away")
                self._ctl_closed = True
                self._progress.notify_all()
            try:
                self._sel.unregister(self._ctl)
            except (KeyError, ValueError):
                pass
            return
        for frame in self._ctl_reader.frames():
            msg = json.loads(frame[0])
            if "event" in msg:
                self._control_event(msg)
            else:
                with self._progress:
                    self._ctl_replies[msg.get("id")] = (msg, frame[1:])
                    self._progress.notify_all()

    def _control_event(self, msg):
        event = msg["event"]
        if event == "engine_registered":
            threading.Thread(target=self._add_engine, daemon=True,
                             args=(msg["id"], msg["url"], msg["uuid"], msg.get("ipc"), msg.get("host"))).start()
        elif event == "engines_ended":
            with self._progress:
                self._engines_ended = msg
                self._progress.notify_all()
        elif event == "engines_reset":
            self._engines_ended = None
        elif event == "engine_died":
            with self._lock:
                conn = self._engines.get(msg["id"])
                if conn is not None:
                    self._engine_lost(conn, msg.get("reason", "the controller reported it dead"))

    def _wait_for(self, ar, timeout):
        with self._progress:
            if not ar._ready:
                self._progress.wait(timeout)

    # ---- controller requests -----------------------------------------------------------------------------------

    def _ask(self, op, timeout=30, **fields):
        if getattr(self, "_ctl_closed", False):
            raise OSError("the controller is gone: the cluster was stopped")
        rid = next(self._ctl_ids)
        with self._ctl_send_lock:
            _wire.send_frame(self._ctl, [json.dumps(dict(fields, op=op, id=rid)).encode()])
        deadline = time.monotonic() + timeout
        with self._progress:
            while rid not in self._ctl_replies:
                left = deadline - time.monotonic()
                if left <= 0 or getattr(self, "_ctl_closed", False):
                    raise TimeoutError(f"the controller did not answer {op!r} within {timeout} s")
                self._progress.wait(min(left, 0.5))
            msg, blobs = self._ctl_replies.pop(rid)
        if not msg.get("ok"):
            raise RuntimeError(f"controller: {msg.get('error')}")
        return msg, blobs

    @property
    def metadata(self):
        return _MetadataMap(self._raw_md)

    @property
    def outstanding(self):
        with self._lock:
            return {t.msg_id for t in self._pending.values()} | {t.msg_id for t in self._lb_queue} | \
                {t.msg_id for t in self._lb_waiting}

    # ---- control -----------------------------------------------------------------------------------------------

    def wait(self, jobs=None, timeout=-1):
        """Waits for ``jobs`` (AsyncResults or msg_ids; default: everything outstanding); returns True if all
        finished within ``timeout`` seconds."""
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        if jobs is None:
            with self._progress:
                while self._pending or self._lb_queue or self._lb_waiting:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._progress.wait(0.5 if left is None else min(left, 0.5))
            return True
        ars = [j for j in (jobs if isinstance(jobs, (list, tuple, set)) else [jobs]) if isinstance(j, AsyncResult)]
        ids = set(_msg_ids([j for j in (jobs if isinstance(jobs, (list, tuple, set)) else [jobs])
                            if not isinstance(j, AsyncResult)]))
        for ar in ars:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not ar.wait(left):
                return False
        with self._progress:
            while ids & self.outstanding:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._progress.wait(0.5 if left is None else min(left, 0.5))
        return True

    def abort(self, jobs=None, targets=None, block=None):
        """Aborts tasks that have not started: queued here, or queued on their engine."""
        if jobs is None:
            ids = self.outstanding
        else:
            ids = set()
            for j in (jobs if isinstance(jobs, (list, tuple, set)) else [jobs]):
                ids.update(j.msg_ids if isinstance(j, AsyncResult) else _msg_ids(j))
        by_engine = collections.defaultdict(list)
        with self._lock:
            for container in (self._lb_queue, self._lb_waiting):
                for t in [t for t in container if t.msg_id in ids]:
                    container.remove(t)
                    self._fail_task(t, error.TaskAborted(f"task {t.msg_id} was aborted before it ran"))
            for t in self._pending.values():
                if t.msg_id in ids:
                    by_engine[t.engine].append(t.seq)
            for eid, seqs in by_engine.items():
                conn = self._engines[eid]
                if conn.alive:
                    conn.send([P.REQUEST.pack(P.ABORT, 0, 0, 0, 0, time.time()), pickle.dumps(seqs)])
            self._progress.notify_all()

    def clear(self, targets=None, block=None):
        """Clears the engines' namespaces."""
        ids = self._build_targets(targets)
        ar = self._submit_direct(P.CLEAR, [b""], ids, "clear")
        if block or block is None:
            ar.get()
        return ar

    def shutdown(self, targets="all", restart=False, hub=False, block=None):
        """Stops engines (all by default); ``hub=True`` stops the controller and the whole cluster too."""
        if restart:
            self._ask("restart_engines")
            return
        if hub or targets == "all" or targets is None:
            self._ask("shutdown", hub=True)
        else:
            self._ask("shutdown", targets=self._build_targets(targets))

    def send_signal(self, sig, targets=None, block=None):
        """Sends a signal to engines' processes: ``send_signal(signal.SIGINT)`` interrupts their running tasks
        (which fail with KeyboardInterrupt); the engines keep serving."""
        import signal as _signal
        if isinstance(sig, str):
            name = sig.upper() if sig.upper().startswith("SIG") else "SIG" + sig.upper()
            try:
                sig = _signal.Signals[name]
            except KeyError:
                raise ValueError(f"unknown signal {sig!r} (e.g. 'SIGINT', 'SIGTERM' or a number)") from None
        ids = self._build_targets(targets)
        self._ask("signal", signal=int(sig), targets=ids)

    def spin(self):
        """Nothing to do: replies are received by a background thread as they arrive."""

    def close(self, linger=None):
        if self._closed:
            return
        self._closed = True
        self._wake()
        self._io.join(2)
        with self._lock:
            for c in self._engines.values():
                if c.sock is not None:
                    try:
                        c.sock.close()
                    except OSError:
                        pass
        for s in (self._ctl, self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass
        try:
            self._sel.close()
        except (OSError, ValueError, RuntimeError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        return f"<Client: {len(self.ids)} engines ({self._path})>"


class _MetadataMap(dict):
    """client.metadata[msg_id] -> Metadata, built on access."""

    def __init__(self, raw):
        super().__init__()
        self._raw = raw

    def __getitem__(self, key):
        return make_metadata(self._raw[key])

    def __contains__(self, key):
        return key in self._raw

    def __len__(self):
        return len(self._raw)

    def __iter__(self):
        return iter(self._raw)

    def keys(self):
        return self._raw.keys()
