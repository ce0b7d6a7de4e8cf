"""Client: the connection to a cluster, as ipyparallel's ``Client``.

It reads the cluster's connection file, authenticates with the controller (the engine registry, the task database)
and then with every engine, and sends tasks straight to the engines. One I/O thread receives replies for all engines
and completes the AsyncResults; it also runs the load balancer (the tasks of load-balanced views wait in this client
until an engine has room, so a finished task immediately makes room for the next).
"""

import collections
import itertools
import json
import os
import pickle
import selectors
import socket
import threading
import time
import uuid

from . import _files
from . import _protocol as P
from . import _serialize
from . import _wire
from . import error
from .asyncresult import AsyncHubResult, AsyncMapResult, AsyncResult, ExecuteReply, Metadata, make_metadata

_SEQ_BASE = 1


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


class Client:
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

    def _submit_lb(self, tasks, ar, retries=0, targets=None, after=None, follow=None, timeout=None):
        """Queues load-balanced tasks; the balancer sends them as engines have room."""
        deadline = time.monotonic() + timeout if timeout else None
        with self._lock:
            for i, t in enumerate(tasks):
                t.ar, t.index, t.lb = ar, i, True
                t.retries, t.targets, t.after, t.follow, t.deadline = retries, targets, after, follow, deadline
                t.submitted = time.time()
                self._requests[t.msg_id] = t
                if len(t.payload) < 4:  # no array buffers: cheap to keep for resubmit()
                    self._resubmittable[t.msg_id] = t
                if after is not None or follow is not None:
                    self._lb_waiting.append(t)
                else:
                    self._lb_queue.append(t)
            self.history.extend(t.msg_id for t in tasks)
            wake = deadline is not None
            if len(self._lb_queue) == len(tasks) and not any(c.lb_outstanding for c in self._engines.values()):
                # an isolated call: send it now, it must not wait for the I/O thread
                self._dispatch_lb()
            elif not self._dispatch_requested:
                # a burst: the I/O thread sends what has queued up by the time it runs, one system call per
                # engine instead of one per task
                self._dispatch_requested = wake = True
        if wake:
            self._wake()

    def _dispatch_lb(self):
        """Sends queued load-balanced tasks to the least loaded engines that have room (lock held)."""
        if self._lb_waiting:
            self._check_dependencies()
        queue = self._lb_queue
        if not queue:
            return
        engines = [c for c in self._engines.values() if c.alive]
        batch = {}
        try:
            self._fill_engines(queue, engines, batch)
        finally:
            self._flush(batch)

    def _fill_engines(self, queue, engines, batch):
        # The common case first: unconstrained tasks go to the engine with the most room, all of them in one pass
        # (the room of each engine is computed once per dispatch, not once per task and engine).
        room = {c: c.hwm() - c.lb_outstanding for c in engines}
        while queue:
            task = queue[0]
            if task.targets is None and not task.tried and task.follow is None:
                best = max(room, key=room.get, default=None)
                if best is None or room[best] <= 0:
                    return
                queue.popleft()
                room[best] -= 1
                self._send(task, best.id, batch)
                continue
            best = None
            best = None
            for c in engines:
                if task.targets is not None and c.id not in task.targets:
                    continue
                if task.tried and c.id in task.tried:
                    continue
                if task.follow is not None and not task.follow.engine_ok(self, c.id):
                    continue
                if c.lb_outstanding >= c.hwm():
                    continue
                if best is None or c.lb_outstanding < best.lb_outstanding:
                    best = c
            if best is None:
                if not self._can_ever_run(task, engines):
                    queue.popleft()
                    self._fail_task(task, error.ImpossibleDependency(
                        "no engine can run this task: every allowed engine already failed it or is dead"))
                    continue
                if task.targets is not None or task.tried or task.follow is not None:
                    # this task is waiting for specific engines; let the ones behind it use the others
                    queue.rotate(-1)
                    if all(t.targets is not None or t.tried or t.follow is not None for t in queue):
                        break
                    continue
                break
            queue.popleft()
            room[best] = room.get(best, 0) - 1
            self._send(task, best.id, batch)

    def _can_ever_run(self, task, engines):
        for c in engines:
            if task.targets is not None and c.id not in task.targets:
                continue
            if task.tried and c.id in task.tried:
                continue
            if task.follow is not None and not task.follow.engine_possible(self, c.id):
                continue
            return True
        return False

    def _check_dependencies(self):
        still = []
        for t in self._lb_waiting:
            state = t.after.state(self) if t.after is not None else "met"
            fstate = t.follow.state(self) if t.follow is not None else "met"
            if state == "invalid" or fstate == "invalid":
                self._fail_task(t, error.InvalidDependency(
                    "a dependency names a task this client does not know (a typo, or another client's task)"))
            elif state == "impossible" or fstate == "impossible":
                self._fail_task(t, error.ImpossibleDependency(
                    "a dependency of this task can never be met (it failed, or succeeded when failure was required)"))
            elif state == "met" and fstate == "met":
                self._lb_queue.append(t)
            else:
                still.append(t)
        self._lb_waiting = still

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
        while not self._closed:
            timeout = self._next_deadline()
            try:
                events = self._sel.select(timeout)
            except (OSError, ValueError):
                if self._closed:
                    return
                raise
            for key, _ in events:
                what = key.data
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
            if self._lb_waiting or self._lb_queue:
                with self._lock:
                    self._expire_timeouts()

    def _next_deadline(self):
        deadlines = [t.deadline for t in itertools.chain(self._lb_queue, self._lb_waiting) if t.deadline]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _expire_timeouts(self):
        now = time.monotonic()
        for container in (self._lb_queue, self._lb_waiting):
            expired = [t for t in container if t.deadline and t.deadline <= now]
            for t in expired:
                container.remove(t)
                self._fail_task(t, error.TaskTimeout(f"task {t.msg_id} did not start within its timeout"))
        if expired:
            self._progress.notify_all()

    def _read_engine(self, conn):
        if not conn.reader.fill():
            with self._lock:
                self._engine_lost(conn, "its connection closed (the engine stopped or crashed)")
            return
        frames = conn.reader.frames()
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

    def _retry(self, task, failed_engine):
        """Resubmits a failed load-balanced task on another engine; False when no retries remain."""
        if task.retries <= 0:
            return False
        task.retries -= 1
        task.tried = (task.tried or set()) | {failed_engine}
        self._lb_queue.append(task)
        return True

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

    def queue_status(self, targets="all", verbose=False):
        """{engine_id: {'queue': n, 'completed': n, 'tasks': n}, 'unassigned': n}; an int target gives its dict."""
        ids = self._build_targets(targets)
        msg, _ = self._ask("queue_status")
        status = {}
        with self._lock:
            for eid in ids:
                s = msg["status"].get(str(eid), {"queue": 0, "completed": 0, "tasks": 0})
                conn = self._engines[eid]
                # the engine reports in batches; this client knows its own outstanding work exactly
                s = dict(s, queue=max(s["queue"], conn.outstanding), tasks=conn.lb_outstanding)
                status[eid] = s if verbose else s
            status["unassigned"] = len(self._lb_queue) + len(self._lb_waiting)
        if isinstance(targets, int):
            return status[ids[0]]
        return status

    def db_query(self, query, keys=None):
        """Task records matching a Mongo-style query ({'completed': {'$gt': t}}, '$in', '$exists', ...)."""
        msg, blobs = self._ask("db_query", query=_jsonable_query(query), keys=keys)
        return pickle.loads(blobs[0])

    def hub_history(self):
        """msg_ids of every task the controller has recorded, in submission order."""
        return self._ask("hub_history")[0]["history"]

    def result_status(self, msg_ids, status_only=True):
        """{'pending': [...], 'completed': [...]} (and the results, unless ``status_only``)."""
        ids = _msg_ids(msg_ids)
        pending, completed, results = [], [], {}
        with self._lock:
            missing = []
            for m in ids:
                if m in self.results:
                    completed.append(m)
                    results[m] = self.results[m]
                elif any(t.msg_id == m for t in self._pending.values()) or m in self._requests:
                    pending.append(m)
                else:
                    missing.append(m)
        if missing:
            records = pickle.loads(self._ask("get_records", msg_ids=missing)[1][0])
            for m in missing:
                rec = records.get(m)
                if rec is None:
                    pending.append(m)  # not recorded yet (in flight, or reported within the next batch)
                    continue
                completed.append(m)
                results[m] = _record_value(rec)
        out = {"pending": pending, "completed": completed}
        if not status_only:
            out.update(results)
        return out

    def get_result(self, indices_or_msg_ids=None, block=None, owner=False):
        """An AsyncResult for earlier tasks, by msg_id or index into ``history``; from the database when the
        task was not submitted by this client."""
        if indices_or_msg_ids is None:
            indices_or_msg_ids = -1
        if isinstance(indices_or_msg_ids, AsyncResult):
            if owner:
                return indices_or_msg_ids
            indices_or_msg_ids = list(indices_or_msg_ids.msg_ids)
        single = not isinstance(indices_or_msg_ids, (list, tuple))
        ids = []
        for x in ([indices_or_msg_ids] if single else indices_or_msg_ids):
            if isinstance(x, AsyncResult):
                ids.extend(x.msg_ids)
            else:
                ids.append(self.history[x] if isinstance(x, int) else x)
        local = all(m in self.results for m in ids)
        if local:
            ar = AsyncResult(self, ids, fname="get_result", single_result=single)
            with self._lock:
                for i, m in enumerate(ids):
                    ar._task_done(i, self.results[m], self._raw_md[m])
            return ar
        ar = AsyncHubResult(self, ids, fname="get_result", single_result=single)
        mine = [m for m in ids if m in self.results]
        for m in mine:
            ar._task_done(ids.index(m), self.results[m], self._raw_md[m])
        others = [m for m in ids if m not in self.results]
        records = pickle.loads(self._ask("get_records", msg_ids=others)[1][0])
        unknown = [m for m in others if m not in records and not self._maybe_running(m)]
        if unknown:
            raise KeyError(f"No such msg_id: {unknown[0]!r} (not in this client's results nor the task database)")
        self._fill_from_records(ar, ids, records)
        if not ar.ready():
            # tasks still running (another client's, or in flight): their records arrive when they finish
            threading.Thread(target=self._poll_records, args=(ar, ids), daemon=True).start()
        if block:
            ar.wait()
        return ar

    def _maybe_running(self, msg_id):
        """A msg_id the controller has no record of yet may be a task still running for another client."""
        session = msg_id.rsplit("_", 1)[0]
        return session != self.session and "_" in msg_id

    def _poll_records(self, ar, ids):
        while not ar.ready() and not self._closed:
            time.sleep(0.05)
            pending = [m for i, m in enumerate(ids) if ar._raw_md[i] is None]
            try:
                records = pickle.loads(self._ask("get_records", msg_ids=pending)[1][0])
            except (OSError, TimeoutError, RuntimeError):
                return
            self._fill_from_records(ar, ids, records)

    def _fill_from_records(self, ar, ids, records):
        for i, m in enumerate(ids):
            rec = records.get(m)
            if rec is None or ar._raw_md[i] is not None:
                continue
            raw = (m, rec.get("engine_id"), rec.get("engine_uuid"), _ts(rec.get("submitted")),
                   _ts(rec.get("started")), _ts(rec.get("completed")), _ts(rec.get("received")), rec.get("status"),
                   rec.get("stdout") or "", rec.get("stderr") or "", rec.get("error"), None)
            with self._lock:
                ar._task_done(i, _record_value(rec), raw)

    def resubmit(self, indices_or_msg_ids=None, block=None):
        """Runs earlier load-balanced tasks of this client again; returns the new AsyncResult."""
        ids = [self.history[x] if isinstance(x, int) else x for x in
               (indices_or_msg_ids if isinstance(indices_or_msg_ids, (list, tuple)) else [indices_or_msg_ids])]
        tasks = []
        for m in ids:
            original = self._resubmittable.get(m)
            if original is None:
                raise KeyError(f"cannot resubmit {m}: only this client's load-balanced apply tasks can be "
                                 "resubmitted")
            tasks.append(self._new_task(original.kind, original.flags, original.payload))
        ar = AsyncResult(self, [t.msg_id for t in tasks], fname="resubmit", single_result=len(tasks) == 1)
        self._submit_lb(tasks, ar)
        if block:
            ar.get()
        return ar

    def purge_hub_results(self, jobs=None, targets=None):
        """Drops task records from the controller's database (``jobs='all'`` for everything)."""
        if jobs == "all" or targets == "all":
            self._ask("purge_results", all=True)
            return
        ids = _msg_ids(jobs) if jobs else []
        eids = self._build_targets(targets) if targets is not None else []
        self._ask("purge_results", msg_ids=ids, engine_ids=eids)

    def purge_results(self, jobs=None, targets=None):
        """Drops results here and in the controller's database (``jobs='all'`` for everything)."""
        if jobs is not None and jobs != "all" and targets is None:
            self.purge_local_results(jobs)
        elif jobs == "all" or targets == "all":
            self.purge_local_results("all")
        self.purge_hub_results(jobs, targets)

    def purge_local_results(self, jobs=None, targets=None):
        """Forgets results kept in this client; refuses while the named tasks are still outstanding."""
        with self._lock:
            outstanding = self.outstanding
            if jobs in (None, "all"):
                if outstanding:
                    raise RuntimeError(f"cannot purge all local results: {len(outstanding)} tasks are outstanding "
                                       "(wait for them first)")
                self.results.clear()
                self._raw_md.clear()
                return
            ids = _msg_ids(jobs)
            busy = [m for m in ids if m in outstanding]
            if busy:
                raise RuntimeError(f"cannot purge outstanding task(s) {busy[:3]}: wait for them first")
            for m in ids:
                self.results.pop(m, None)
                self._raw_md.pop(m, None)

    def purge_everything(self):
        """Forgets every result, here and in the database, and this client's history."""
        self.purge_results("all")
        with self._lock:
            self.history.clear()
            self._resubmittable.clear()

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


def _msg_ids(jobs):
    if jobs is None:
        return []
    if isinstance(jobs, str):
        return [jobs]
    if isinstance(jobs, AsyncResult):
        return list(jobs.msg_ids)
    out = []
    for j in jobs:
        out.extend(j.msg_ids if isinstance(j, AsyncResult) else [j])
    return out


def _ts(dt):
    return dt.timestamp() if dt is not None else None


def _record_value(rec):
    if rec.get("status") != "ok":
        return error.unwrap_exception(rec.get("error") or {"ename": "UnknownError", "evalue": rec.get("status")})
    buffers = rec.get("result_buffers")
    if rec.get("method") == "execute" or not buffers:
        return None
    return _serialize.loads(buffers)


def _jsonable_query(query):
    """datetimes in a query travel as ISO strings; the controller turns them back."""
    import datetime

    def conv(v):
        if isinstance(v, datetime.datetime):
            return {"$datetime": v.timestamp()}
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple, set)):
            return [conv(x) for x in v]
        return v
    return conv(query)
