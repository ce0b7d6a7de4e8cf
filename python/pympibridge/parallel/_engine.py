"""An engine: one MPI rank of a cluster, hosted by PyMpiBridge (``./pympi run -n N -m pympibridge.parallel._engine``).

Engine id = MPI rank for the engines the controller started; engines of a job that joins later (``pympi cluster
engines``, maybe on another host) get the next free ids, one block per job. Inside tasks ``MPI.COMM_WORLD``,
``pympibridge.world`` and C#'s ``Comm.World`` are exactly the engines of the task's own MPI job. Clients connect straight to each engine (authenticated with the cluster key), so a task crosses one socket
each way; the controller only learns of tasks afterwards, from batched records sent by a reporter thread.

The loop is one thread: it reads every socket that has data, queues the tasks, runs them in order and sends the
replies of a burst in one system call. Between tasks it looks at the sockets again (at most every millisecond), so an
abort can overtake queued work. When there is nothing to do it blocks in ``select``: an idle engine uses no CPU.
"""

import argparse
import ast
import builtins
import collections
import io
import json
import logging
import os
import pickle
import selectors
import socket
import sys
import threading
import time
import types
import uuid

from . import _protocol as P
from . import _reaper
from . import _serialize
from . import _wire
from .error import wrap_exception

log = logging.getLogger("pympibridge.parallel.engine")

HOT_SPIN = float(os.environ.get("PYMPI_ENGINE_SPIN_US", "300")) * 1e-6


class _Client:
    __slots__ = ("sock", "reader", "session", "out")

    def __init__(self, sock, session):
        self.sock = sock
        self.reader = _wire.FrameReader(sock)
        self.session = session
        self.out = []


class _Reporter(threading.Thread):
    """Sends task records and queue counts to the controller in batches, off the task path."""

    def __init__(self, engine):
        super().__init__(name="pympi-engine-reporter", daemon=True)
        self.engine = engine
        self.cond = threading.Condition()
        self.records = []
        self.stopped = False

    def add(self, record):
        with self.cond:
            self.records.append(record)
            if len(self.records) == 1:
                self.cond.notify()

    def run(self):
        while True:
            with self.cond:
                while not self.records and not self.stopped:
                    self.cond.wait()
                if self.stopped and not self.records:
                    return
            time.sleep(0.02)  # let a burst accumulate: one message per 20 ms at most
            with self.cond:
                batch, self.records = self.records, []
            try:
                self.engine.send_to_controller({"op": "records", "engine_id": self.engine.id,
                                                "queue": len(self.engine.queue),
                                                "completed": self.engine.completed},
                                               [pickle.dumps(batch, protocol=5)])
            except OSError:
                return

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify()


class Engine:
    def __init__(self, config, rank, size, job=None, ip=None, location=None):
        self.id = rank              # until the controller assigns the cluster-wide id (register)
        self.rank = rank
        self.size = size
        self.job = job
        self.uuid = str(uuid.uuid4())
        self.key = bytes.fromhex(config["key"])
        self.info = {"engine_id": rank, "engine_uuid": self.uuid}
        self.db_results_limit = int(config.get("db_result_limit", 1 << 20))
        self.keep_records = config.get("db", "memory") != "none"
        self.controller, _ = _wire.connect(config["controller"], self.key, {"role": "engine", "id": rank})
        self.controller_reader = _wire.FrameReader(self.controller)
        ip = ip or config.get("engine_ip", "127.0.0.1")
        if ip == "auto":
            # the address this host reaches the controller from: on the controller's network, so clients there
            # reach this engine at it too (an engine on another host cannot bind the controller host's address)
            ip = self.controller.getsockname()[0]
        self.listener = _wire.listen(ip)
        self.url = _wire.url_of(self.listener, location or config.get("engine_location") or None)
        # clients on this host connect here instead: lower latency, and large arrays pass as memfds
        self.local_listener, self.ipc_url = _wire.listen_local(f"pympi-engine-{self.uuid}")
        self.sel = selectors.DefaultSelector()
        self.queue = collections.deque()
        self.aborted = set()
        self.clients = {}
        self.completed = 0
        self.stopping = False
        self.controller_lock = threading.Lock()
        self.user_ns = self._fresh_namespace()
        self.execution_count = 0
        self.functions = {}
        self.in_task = False
        self.reporter = _Reporter(self)
        self.reaper = _reaper.Reaper()

    @staticmethod
    def _fresh_namespace():
        # Tasks run in a real module named __main__, so classes they define pickle by reference as they would in
        # a script, and functions that travel by value get this namespace as their globals.
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = main
        _serialize.set_namespace(main.__dict__)
        return main.__dict__

    def send_to_controller(self, message, blobs=()):
        with self.controller_lock:
            _wire.send_frame(self.controller, [json.dumps(message).encode(), *blobs])

    def register(self):
        """Registers with the controller, which answers with this engine's id in the cluster (PROTOCOL.md: the
        engines it started keep their MPI rank; each job of engines joining later gets the next free ids)."""
        self.send_to_controller({"op": "register_engine", "id": self.rank, "rank": self.rank, "size": self.size,
                                 "job": self.job, "uuid": self.uuid, "url": self.url, "ipc": self.ipc_url,
                                 "pid": os.getpid(), "host": socket.gethostname()})
        reply = json.loads(self.controller_reader.read_frame()[0])
        if not reply.get("ok"):
            raise RuntimeError(f"engine (rank {self.rank}): the controller refused registration: {reply.get('error')}")
        self.id = int(reply.get("id", self.rank))
        self.info["engine_id"] = self.id

    # ---- the loop ----------------------------------------------------------------------------------------------

    def serve(self):
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.sel.register(self.local_listener, selectors.EVENT_READ, "accept-local")
        self.sel.register(self.controller, selectors.EVENT_READ, "controller")
        self.reporter.start()
        self.reaper.start()
        log.info("engine %d serving at %s", self.id, self.url)
        busy_until = 0.0
        while not self.stopping:
            if self.queue:
                self._poll(0)
            elif time.monotonic() < busy_until:
                # Just after work, look for the next request without sleeping: a client calling in a loop sends it
                # within a round trip, and waking a sleeping process costs this VM ~50 us. Only for HOT_SPIN
                # seconds after the last task: an idle engine sleeps in select and uses no CPU.
                self._poll(0)
                if not self.queue:
                    continue
            else:
                self._poll(None)
            if self.queue:
                busy_until = time.monotonic() + HOT_SPIN
            deadline = time.monotonic() + 0.001
            while self.queue and not self.stopping:
                client, frame = self.queue.popleft()
                self._run(client, frame)
                if time.monotonic() > deadline:
                    break
            self._flush()
        self._flush()
        self.reporter.stop()
        self.reporter.join(2)
        self.reaper.stop()
        # Close every socket now: this rank may wait a while in the collective MPI_Finalize for the other engines,
        # and clients and the controller must learn at once that this engine is gone.
        for sock in [self.listener, self.local_listener, *self.clients]:
            sock.close()
        self.clients.clear()
        with self.controller_lock:
            self.controller.close()

    def _poll(self, timeout):
        for key, _ in self.sel.select(timeout):
            what = key.data
            if what == "accept":
                self._accept(self.listener)
            elif what == "accept-local":
                self._accept(self.local_listener)
            elif what == "controller":
                self._controller_message()
            else:
                self._read(what)

    def _accept(self, listener):
        sock, addr = listener.accept()
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            ident = _wire.server_handshake(sock, self.key, {"engine_id": self.id, "engine_uuid": self.uuid})
        except (OSError, ValueError) as e:
            log.warning("engine %d: refused a connection from %s: %s", self.id, addr, e)
            sock.close()
            return
        client = _Client(sock, ident.get("session", "?"))
        self.clients[sock] = client
        self.sel.register(sock, selectors.EVENT_READ, client)

    def _read(self, client):
        if not client.reader.fill():
            self._drop(client)
            return
        try:
            frames = client.reader.frames()
        except (OSError, ValueError) as e:
            log.warning("engine %d: dropping client %s: %s", self.id, client.session, e)
            self._drop(client)
            return
        for frame in frames:
            kind = frame[0][0]
            if kind == P.ABORT:
                # only tasks of this client still waiting here; a started or unknown one is not ours to mark
                wanted = set(pickle.loads(frame[1]))
                for queued_client, queued in self.queue:
                    if queued_client is client:
                        seq = P.REQUEST.unpack_from(queued[0])[4]
                        if seq in wanted:
                            self.aborted.add((id(client), seq))
            else:
                self.queue.append((client, frame))

    def _drop(self, client):
        self.sel.unregister(client.sock)
        self.clients.pop(client.sock, None)
        client.reader.close_pending()
        client.sock.close()
        # tasks of a client that left are still run (their records reach the database), their replies dropped

    def _controller_message(self):
        if not self.controller_reader.fill():
            log.error("engine %d: the controller went away; stopping", self.id)
            self.stopping = True
            return
        for frame in self.controller_reader.frames():
            msg = json.loads(frame[0])
            if msg.get("op") == "shutdown":
                self.stopping = True

    def _flush(self):
        for client in list(self.clients.values()):
            if client.out:
                frames, client.out = client.out, []
                try:
                    _wire.send_frames(client.sock, frames)
                except OSError:
                    self._drop(client)

    # ---- tasks -------------------------------------------------------------------------------------------------

    def _run(self, client, frame):
        kind, flags, _u, _u2, seq, submitted = P.REQUEST.unpack(frame[0])
        started = time.time()
        if self.aborted and (id(client), seq) in self.aborted:
            self.aborted.discard((id(client), seq))
            self._reply(client, kind, seq, submitted, P.ABORTED, 0, started, started, b"", b"",
                        [pickle.dumps({"ename": "TaskAborted", "evalue": "aborted before it ran", "local": True,
                                       "engine_info": self._info(kind)})], None)
            return
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        reply_flags = 0
        error = None
        try:
            self.in_task = True
            result = self._dispatch(kind, flags, frame)
            self.in_task = False
            if kind == P.EXECUTE:
                if result is not _NO_RESULT:
                    reply_flags = P.HAS_RESULT
                    payload = [pickle.dumps({"text/plain": _repr(result), "execution_count": self.execution_count})]
                else:
                    payload = []
            else:
                payload = _serialize.dumps(result)
            status = P.OK
        except BaseException:
            error = wrap_exception(self._info(kind), hide_file=__file__)
            payload = [pickle.dumps(error)]
            status = P.ERROR
        finally:
            self.in_task = False
            sys.stdout, sys.stderr = saved
        completed = time.time()
        self.completed += 1
        self._reply(client, kind, seq, submitted, status, reply_flags, started, completed,
                    out.getvalue().encode(), err.getvalue().encode(), payload, error)

    def _reply(self, client, kind, seq, submitted, status, flags, started, completed, stdout, stderr, payload, error):
        if client.sock in self.clients:
            client.out.append([P.REPLY.pack(status, flags, 0, 0, seq, started, completed), stdout, stderr, *payload])
            if len(client.out) >= 256:
                self._flush()
        if self.keep_records:
            size = sum(len(p) if not isinstance(p, memoryview) else p.nbytes for p in payload)
            stored = [bytes(p) for p in payload] if size <= self.db_results_limit else None
            self.reporter.add((client.session, seq, kind, submitted, started, completed, status,
                               stdout, stderr, error, stored))

    def _info(self, kind):
        return {"engine_id": self.id, "engine_uuid": self.uuid, "method": P.KIND_NAMES.get(kind, "?")}

    def _dispatch(self, kind, flags, frame):
        ns = self.user_ns
        if kind == P.APPLY:
            f = self._function(frame[1])
            args, kwargs = _serialize.loads(frame[2:])
            return f(*args, **kwargs)
        if kind == P.EXECUTE:
            return self._execute(bytes(frame[1]).decode(), silent=bool(flags & P.SILENT))
        if kind == P.PUSH:
            values = _serialize.loads(frame[1:])
            replaced = _reaper.large_arrays(ns[k] for k in values if k in ns)
            ns.update(values)
            if replaced:
                self.reaper.free(replaced)  # the reply need not wait for the old arrays' memory to be returned
            return None
        if kind == P.PULL:
            names = pickle.loads(frame[1])
            if isinstance(names, str):
                return _lookup(ns, names)
            return [_lookup(ns, n) for n in names]
        if kind == P.CLEAR:
            self.functions.clear()
            ns.clear()
            ns["__builtins__"] = builtins
            ns["__name__"] = "__main__"
            return None
        raise ValueError(f"unknown request kind {kind}")

    def interrupt(self):
        """SIGINT: interrupts the running task; between tasks (the engine's own I/O) it is ignored, so a frame is
        never cut in half."""
        if self.in_task:
            raise KeyboardInterrupt

    def _function(self, data):
        """The function a task calls. Rebuilding one that travelled by value costs microseconds, and task floods
        send the same bytes again and again: a function with no state of its own (no defaults, closure or
        attributes) rebuilt from the same bytes is the same function, so it is kept (at most 256 of them)."""
        data = bytes(data)
        f = self.functions.get(data)
        if f is not None:
            return f
        f = pickle.loads(data)
        if getattr(f, "__defaults__", 1) is None and getattr(f, "__closure__", 1) is None and \
                not getattr(f, "__dict__", True) and getattr(f, "__kwdefaults__", 1) is None and \
                not _by_reference(f):
            if len(self.functions) >= 256:
                self.functions.clear()
            self.functions[data] = f
        return f

    def _execute(self, code, silent):
        self.execution_count += 1
        tree = ast.parse(code, filename="<execute>", mode="exec")
        last = None
        if not silent and tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<execute>", "exec"), self.user_ns)
        if last is None:
            return _NO_RESULT
        value = eval(compile(last, "<execute>", "eval"), self.user_ns)
        if value is None:
            return _NO_RESULT
        self.user_ns["_"] = value
        return value


_NO_RESULT = object()


def _by_reference(f):
    """True when unpickling found ``f`` by name (module.qualname): the name may be rebound later (the user
    redefines the function), so the same bytes must be looked up again next time, never cached."""
    module = sys.modules.get(getattr(f, "__module__", None) or "")
    obj = module
    for part in getattr(f, "__qualname__", "").split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is f


def _lookup(ns, name):
    head, *rest = name.split(".")
    try:
        value = ns[head]
    except KeyError:
        raise NameError(f"name '{head}' is not defined") from None
    for attr in rest:
        value = getattr(value, attr)
    return value


def _repr(value):
    try:
        return repr(value)
    except Exception as e:  # a broken __repr__ must not lose the task
        return f"<unrepresentable {type(value).__name__}: {e}>"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pympibridge.parallel._engine")
    parser.add_argument("engine_file", help="the connection file written by the controller (engine or client file)")
    parser.add_argument("--ip", default=None, help="address to listen on (default: the file's engine_ip; 'auto': "
                        "the address this host reaches the controller from)")
    parser.add_argument("--location", default=None, help="address clients use to reach this engine")
    args = parser.parse_args(argv)
    with open(args.engine_file) as f:
        config = json.load(f)
    from pympibridge import world
    rank, size = world.Get_rank(), world.Get_size()
    # one token for the engines of this MPI job: the controller gives a joining job a block of ids of its own
    job = world.bcast(os.environ.get("PYMPI_ENGINE_JOB") or uuid.uuid4().hex, root=0)
    logging.basicConfig(level=os.environ.get("PYMPI_LOG_LEVEL", "WARNING").upper(),
                        format=f"[engine {rank}] %(levelname)s %(message)s")
    try:
        engine = Engine(config, rank, size, job, args.ip, args.location)
    except _wire.AuthenticationFailed as e:
        sys.exit(f"engine (rank {rank}): {e} ({args.engine_file} does not hold the key of the cluster at "
                 f"{config.get('controller')})")
    except OSError as e:
        sys.exit(f"engine (rank {rank}): cannot reach the controller at {config.get('controller')} ({e}); is the "
                 f"cluster running, and is its address reachable from {socket.gethostname()}?")
    import signal
    try:
        # client.send_signal(SIGINT) interrupts the running task (KeyboardInterrupt inside it), as in ipyparallel;
        # an embedded interpreter installs no handler of its own, and the default action would end the engine
        signal.signal(signal.SIGINT, lambda sig, frame: engine.interrupt())
    except ValueError:
        logging.getLogger(__name__).warning("engine %d: not on Python's main thread; SIGINT will end it", rank)
    engine.register()
    engine.serve()
    # every engine gets the shutdown together, so the collective MPI_Finalize after this returns does not wait


if __name__ == "__main__":
    main()
