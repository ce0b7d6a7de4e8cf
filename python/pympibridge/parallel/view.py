"""Views: DirectView (explicit engines), LoadBalancedView (the client's balancer picks), BroadcastView.

Names, flags and blocking behaviour follow ipyparallel: ``block`` makes ``apply``/``map``/``execute``/... wait and
return values instead of AsyncResults; ``targets`` selects engines ('all', an int, a list or a slice).
"""

import builtins
import contextlib
import concurrent.futures
import inspect
import os
import pickle
import sys

from . import _protocol as P
from . import _serialize
from . import error
from .asyncresult import AsyncMapResult, AsyncResult
from .dependency import make_dependency


def _partition(seq, n, dist="b"):
    """Splits ``seq`` into ``n`` parts: 'b' blocks (the first len % n one longer), 'r' round-robin."""
    length = len(seq)
    if dist == "r":
        return [seq[i::n] for i in range(n)]
    if dist != "b":
        raise ValueError(f"dist must be 'b' (blocks) or 'r' (round-robin), got {dist!r}")
    base, extra = divmod(length, n)
    parts, start = [], 0
    for i in range(n):
        stop = start + base + (1 if i < extra else 0)
        parts.append(seq[start:stop])
        start = stop
    return parts


def _as_sequence(seq):
    if hasattr(seq, "__len__") and hasattr(seq, "__getitem__"):
        return seq
    return list(seq)


def _join(parts):
    """Joins gathered pieces as ipyparallel does: arrays concatenated, lists chained."""
    if parts and all(hasattr(p, "__array_interface__") or type(p).__module__ == "numpy" for p in parts):
        import numpy
        return numpy.concatenate(parts)
    out = []
    for p in parts:
        if isinstance(p, (list, tuple, range)) or hasattr(p, "__iter__") and not isinstance(p, (str, bytes, dict)):
            out.extend(p)
        else:
            out.append(p)
    return out


class _Chunk:
    """Applies ``f`` to one chunk of a map (runs on the engine)."""

    def __init__(self, f):
        self.f = f

    def __call__(self, *columns):
        f = self.f
        return [f(*items) for items in zip(*columns)]


class View:
    _flag_names = ("targets", "block", "track")

    def __init__(self, client, targets=None, block=False, track=False, **flags):
        self.client = client
        self.targets = targets
        self.block = block
        self.track = track
        self._init_flags(**flags)

    def _init_flags(self, **flags):
        if flags:
            self.set_flags(**flags)

    def set_flags(self, **kwargs):
        for name, value in kwargs.items():
            if name not in self._flag_names:
                raise KeyError(f"Invalid name: {name!r} (flags of {type(self).__name__}: "
                               f"{', '.join(self._flag_names)})")
            setattr(self, name, value)

    @contextlib.contextmanager
    def temp_flags(self, **kwargs):
        saved = {k: getattr(self, k) for k in self._flag_names}
        self.set_flags(**kwargs)
        try:
            yield
        finally:
            self.set_flags(**saved)

    def _resolve_block(self, block):
        return self.block if block is None else block

    # apply / map in their three spellings
    def apply(self, f, /, *args, **kwargs):  # positional-only: the task may take a keyword named f
        return self._really_apply(f, args, kwargs)

    def apply_async(self, f, /, *args, **kwargs):  # positional-only: the task may take a keyword named f
        return self._really_apply(f, args, kwargs, block=False)

    def apply_sync(self, f, /, *args, **kwargs):  # positional-only: the task may take a keyword named f
        return self._really_apply(f, args, kwargs, block=True)

    def map_async(self, f, *sequences, **kwargs):
        if "block" in kwargs:
            raise TypeError("map_async doesn't take a `block` keyword argument.")
        return self.map(f, *sequences, block=False, **kwargs)

    def map_sync(self, f, *sequences, **kwargs):
        if "block" in kwargs:
            raise TypeError("map_sync doesn't take a `block` keyword argument.")
        return self.map(f, *sequences, block=True, **kwargs)

    def imap(self, f, *sequences, **kwargs):
        """Like ``map`` but returns an iterator over the results as they arrive in order."""
        return iter(self.map_async(f, *sequences, **kwargs))

    def _apply_payload(self, f, args, kwargs, fbytes=None):
        """[pickled function, pickled (args, kwargs), *array buffers]: a map pickles its function once."""
        if not callable(f) and not isinstance(f, _serialize.Reference):  # a Reference names an engine function
            raise TypeError(f"f must be callable, not {type(f).__name__}")
        try:
            if fbytes is None:
                fbytes = _serialize.dumps_inline(f)
            return [fbytes] + _serialize.dumps_arguments(args, kwargs)
        except Exception as e:
            raise TypeError(f"cannot send {getattr(f, '__name__', f)!r} and its arguments to the engines: {e}. "
                            "Functions defined in a script or notebook are sent by value; for closures over "
                            "unpicklable objects try view.use_cloudpickle()") from e

    def _finish(self, ar, block):
        if block:
            return ar.get()
        return ar

    def abort(self, jobs=None, targets=None, block=None):
        return self.client.abort(jobs if jobs is not None else None, block=block)

    def queue_status(self, targets=None, verbose=False):
        return self.client.queue_status(targets if targets is not None else self.targets or "all", verbose)

    def wait(self, jobs=None, timeout=-1):
        return self.client.wait(jobs, timeout)

    def get_result(self, indices_or_msg_ids=None, block=None, owner=False):
        return self.client.get_result(indices_or_msg_ids, block=block, owner=owner)

    def shutdown(self, targets=None, restart=False, hub=False, block=None):
        return self.client.shutdown(targets if targets is not None else self.targets or "all", restart, hub, block)

    def spin(self):
        pass

    @property
    def history(self):
        return self.client.history

    @property
    def outstanding(self):
        return self.client.outstanding

    @property
    def results(self):
        return self.client.results

    def remote(self, block=None, **flags):
        """Decorator: calling the function runs it on this view's engines."""
        from .remotefunction import remote
        return remote(self, block=self.block if block is None else block, **flags)

    def parallel(self, dist="b", block=None, **flags):
        """Decorator: calling the function maps it over its sequence argument across this view's engines."""
        from .remotefunction import parallel
        return parallel(self, dist=dist, block=self.block if block is None else block, **flags)

    def use_pickle(self):
        _serialize.use_pickle()
        return self._set_engine_pickler("use_pickle")

    def use_cloudpickle(self):
        _serialize.use_cloudpickle()
        return self._set_engine_pickler("use_cloudpickle")

    def use_dill(self):
        _serialize.use_dill()
        return self._set_engine_pickler("use_dill")

    def _set_engine_pickler(self, name):
        ids = self.client._build_targets("all")
        code = f"import pympibridge.parallel._serialize as _s; _s.{name}(); del _s"
        return self.client._submit_direct(P.EXECUTE, [code.encode()], ids, name, flags=P.SILENT)

    @property
    def executor(self):
        return ViewExecutor(self)


class DirectView(View):
    """Work on chosen engines: ``rc[:]``, ``rc[0]``, ``rc[::2]``."""

    def __init__(self, client, targets=None, **kwargs):
        if targets is None or targets == "all":
            targets = "all"  # evaluated at each call: engines that register later are used
        else:
            # as ipyparallel: rc[:] targets [0, 1, ...], rc[-1] the last engine's id (fixed now, not at each call)
            resolved = client._build_targets(targets)
            targets = resolved[0] if isinstance(targets, int) else resolved
        super().__init__(client, targets=targets, **kwargs)

    def _targets(self, targets=None):
        return self.client._build_targets(self.targets if targets is None else targets)

    def _single(self, targets=None):
        t = self.targets if targets is None else targets
        return isinstance(t, int)

    def _really_apply(self, f, args, kwargs, targets=None, block=None, track=None):
        block = self._resolve_block(block)
        ids = self._targets(targets)
        payload = self._apply_payload(f, args, kwargs)
        ar = self.client._submit_direct(P.APPLY, payload, ids, getattr(f, "__name__", "f"),
                                        single=self._single(targets))
        return self._finish(ar, block)

    def map(self, f, *sequences, block=None, track=False, return_exceptions=False):
        """Splits the sequences into one block per engine and applies ``f`` to every item; ``map(f, a, b)``
        calls ``f(a[i], b[i])``. Returns the list (block) or an AsyncMapResult."""
        if not sequences:
            raise ValueError("map needs at least one sequence")
        block = self._resolve_block(block)
        ids = self._targets()
        seqs = [_as_sequence(s) for s in sequences]
        n = min(len(s) for s in seqs)
        seqs = [s[:n] if len(s) != n else s for s in seqs]
        parts = [_partition(s, len(ids)) for s in seqs]
        used = [(eid, [p[i] for p in parts]) for i, eid in enumerate(ids) if len(parts[0][i])]
        chunk = _Chunk(f)
        fbytes = self._apply_payload(chunk, (), {})[0]
        tasks_payload = [self._apply_payload(chunk, cols, {}, fbytes) for _eid, cols in used]
        ar = self._submit_chunks(f, used, tasks_payload, return_exceptions)
        return self._finish(ar, block)

    def _submit_chunks(self, f, used, payloads, return_exceptions):
        client = self.client
        tasks = [client._new_task(P.APPLY, 0, p) for p in payloads]
        ar = AsyncMapResult(client, [t.msg_id for t in tasks], [len(cols[0]) for _e, cols in used],
                            fname=getattr(f, "__name__", "f"), return_exceptions=return_exceptions)
        with client._lock:
            for i, (t, (eid, _c)) in enumerate(zip(tasks, used)):
                t.ar, t.index = ar, i
                client._send(t, eid)
            client.history.extend(t.msg_id for t in tasks)
        return ar

    def execute(self, code, silent=True, targets=None, block=None):
        """Runs ``code`` on the engines. With ``silent=False`` the value of a final expression is kept as
        ``execute_result`` (``%px`` shows it as ``Out[engine:n]: value``)."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a string, got {type(code).__name__}")
        block = self._resolve_block(block)
        ids = self._targets(targets)
        ar = self.client._submit_direct(P.EXECUTE, [code.encode()], ids, "execute", flags=P.SILENT if silent else 0,
                                        single=self._single(targets))
        if block:
            ar.get()  # raises the remote error; the AsyncResult (stdout, execute_result) is returned, as ipyparallel does
        return ar

    def run(self, filename, targets=None, block=None):
        """Runs the contents of a local Python file on the engines."""
        with open(filename) as f:
            code = f.read()
        return self.execute(code, targets=targets, block=block)

    def push(self, ns, targets=None, block=None, track=None):
        """Sets variables on the engines: ``push({'a': 5, 'x': array})``. Arrays travel without pickling their
        bytes and arrive writable."""
        if not isinstance(ns, dict):
            raise TypeError(f"push takes a dict of name -> value, got {type(ns).__name__}; "
                            "for one variable use view['name'] = value")
        for key in ns:
            if not isinstance(key, str) or not key.isidentifier():
                raise ValueError(f"cannot push to {key!r}: names must be valid Python identifiers")
        block = self._resolve_block(block)
        ids = self._targets(targets)
        payload = _serialize.dumps(ns)
        ar = self.client._submit_direct(P.PUSH, payload, ids, "push", single=self._single(targets))
        return self._finish(ar, block)

    update = push

    def pull(self, names, targets=None, block=None):
        """Gets variables from the engines: one name gives its value per engine, a list gives lists."""
        if not isinstance(names, (str, list, tuple)):
            raise TypeError(f"names must be a string or a list of strings, got {type(names).__name__}")
        block = self._resolve_block(block)
        ids = self._targets(targets)
        payload = [pickle.dumps(names if isinstance(names, str) else list(names))]
        ar = self.client._submit_direct(P.PULL, payload, ids, "pull", single=self._single(targets))
        return self._finish(ar, block)

    def get(self, key_s):
        return self.pull(key_s, block=True)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.get(key)
        return self.client.direct_view(self.client._build_targets(self.targets)[key] if isinstance(key, int) and
                                       self.targets == "all" else key)

    def __setitem__(self, key, value):
        if isinstance(key, str) and "." in key:
            # view['a.b'] = v sets an attribute of an engine object, as ipyparallel does
            obj, attr = key.rsplit(".", 1)
            self._really_apply(setattr, (_serialize.Reference(obj), attr, value), {}, block=True)
            return
        self.update({key: value}, block=True)

    def scatter(self, key, seq, dist="b", flatten=False, targets=None, block=None, track=None):
        """Partitions ``seq`` across the engines and sets ``key`` to each part ('b': contiguous blocks, the first
        len % n one longer; 'r': round-robin). ``flatten`` makes a part of one element that element."""
        block = self._resolve_block(block)
        ids = self._targets(targets)
        seq = _as_sequence(seq)
        parts = _partition(seq, len(ids), dist)
        tasks = []
        client = self.client
        for part in parts:
            if flatten and len(part) == 1:
                part = part[0]
            tasks.append(client._new_task(P.PUSH, 0, _serialize.dumps({key: part})))
        ar = AsyncResult(client, [t.msg_id for t in tasks], fname="scatter")
        with client._lock:
            for i, (t, eid) in enumerate(zip(tasks, ids)):
                t.ar, t.index = ar, i
                client._send(t, eid)
            client.history.extend(t.msg_id for t in tasks)
        return self._finish(ar, block)

    def gather(self, key, dist="b", targets=None, block=None):
        """Pulls ``key`` from every engine and joins the parts (arrays concatenated, sequences chained)."""
        if dist not in ("b", "r"):
            raise ValueError(f"dist must be 'b' or 'r', got {dist!r}")
        block = self._resolve_block(block)
        ar = self.pull(key, targets=targets, block=False)
        gathered = _GatherResult(ar, dist)
        return gathered.get() if block else gathered

    def clear(self, targets=None, block=None):
        return self.client.clear(self._targets(targets), block=self._resolve_block(block))

    @contextlib.contextmanager
    def sync_imports(self, local=True, quiet=False):
        """``with view.sync_imports(): import numpy``: the imports run here (if ``local``) and on the engines."""
        view = self
        real_import = builtins.__import__
        modules = []

        def view_import(name, globals=None, locals=None, fromlist=(), level=0):
            imported = real_import(name, globals, locals, fromlist, level) if local else None
            if level == 0 and name not in modules:
                modules.append((name, tuple(fromlist or ())))
            return imported

        builtins.__import__ = view_import
        try:
            yield
        finally:
            builtins.__import__ = real_import
        for name, fromlist in modules:
            if not quiet:
                if fromlist:
                    print(f"importing {', '.join(fromlist)} from {name} on engine(s)")
                else:
                    print(f"importing {name} on engine(s)")
            if fromlist:
                code = f"from {name} import {', '.join(fromlist)}"
            else:
                code = f"import {name}"
            view.execute(code, block=True)

    def activate(self, suffix=""):
        """Makes %px, %%px, %pxresult, %autopx (with ``suffix`` appended) use this view."""
        from . import magics
        magics.activate(self, suffix)

    def __repr__(self):
        return f"<DirectView {self.targets}>"

    def __len__(self):
        return len(self._targets())


class _GatherResult(AsyncResult):
    """gather's result: the pulled parts joined back together."""

    def __init__(self, pulled, dist):
        self._pulled = pulled
        self._dist = dist
        self._future_init()
        self._client = pulled._client
        self.msg_ids = pulled.msg_ids
        self._fname = "gather"
        self._return_exceptions = False
        self._single_result = False
        pulled.add_done_callback(self._done)

    def _done(self, fut):
        self._raw_md = self._pulled._raw_md
        self._results = self._pulled._results
        self._remaining = 0
        if fut.exception() is not None:
            self._ready, self._success = True, False
            self.set_exception(fut.exception())
            return
        parts = fut.result()
        if self._dist == "r":
            import itertools
            merged = [x for group in itertools.zip_longest(*parts, fillvalue=_MISSING) for x in group
                      if x is not _MISSING]
            value = merged
        else:
            value = _join(parts)
        self._ready, self._success = True, True
        self.set_result(value)

    def __getattr__(self, key):
        return getattr(self._pulled, key)


_MISSING = object()


class BroadcastView(DirectView):
    """ipyparallel's broadcast view: the same semantics as a DirectView on all targets."""

    def __repr__(self):
        return f"<BroadcastView {self.targets}>"


class LoadBalancedView(View):
    """Tasks go to whichever engine has room, the least loaded first. Flags: ``retries`` (a failed try runs again
    on an engine that has not tried it), ``timeout`` (TaskTimeout if it has not started by then), ``after`` and
    ``follow`` (dependencies), ``targets`` (restrict to these engines)."""

    _flag_names = ("targets", "block", "track", "retries", "timeout", "after", "follow", "chunksize", "ordered")

    def __init__(self, client, targets=None, **kwargs):
        self.retries = 0
        self.timeout = None
        self.after = None
        self.follow = None
        self.chunksize = 1
        self.ordered = True
        if targets == "all":
            targets = None
        elif targets is not None:
            targets = client._build_targets(targets)  # as ipyparallel: load_balanced_view(-1).targets == [last id]
        super().__init__(client, targets=targets, **kwargs)

    def _lb_targets(self, targets=None):
        t = self.targets if targets is None else targets
        if t is None or t == "all":
            if not any(c.alive for c in self.client._engines.values()):
                raise error.NoEnginesRegistered()
            return None
        return set(self.client._build_targets(t))

    def _really_apply(self, f, args, kwargs, block=None, track=None, after=None, follow=None, timeout=None,
                      targets=None, retries=None):
        block = self._resolve_block(block)
        allowed = self._lb_targets(targets)
        payload = self._apply_payload(f, args, kwargs)
        client = self.client
        task = client._new_task(P.APPLY, 0, payload)
        ar = AsyncResult(client, [task.msg_id], fname=getattr(f, "__name__", "f"), single_result=True)
        client._submit_lb([task], ar, retries=self.retries if retries is None else retries, targets=allowed,
                          after=make_dependency(self.after if after is None else after),
                          follow=make_dependency(self.follow if follow is None else follow),
                          timeout=self.timeout if timeout is None else timeout)
        return self._finish(ar, block)

    def map(self, f, *sequences, block=None, chunksize=None, ordered=None, return_exceptions=False, track=False):
        """Load-balanced map: ``chunksize`` items per task (default 1); ``ordered=False`` gives results in
        completion order."""
        if not sequences:
            raise ValueError("map needs at least one sequence")
        block = self._resolve_block(block)
        chunksize = self.chunksize if chunksize is None else chunksize
        ordered = self.ordered if ordered is None else ordered
        if not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
        allowed = self._lb_targets()
        seqs = [_as_sequence(s) for s in sequences]
        n = min(len(s) for s in seqs)
        client = self.client
        chunk_f = _Chunk(f)
        fbytes = self._apply_payload(chunk_f, (), {})[0]
        tasks, sizes = [], []
        # the function travels once per chunk, pickled once: chunks reuse its bytes
        for start in range(0, n, chunksize):
            cols = tuple(s[start:start + chunksize] for s in seqs)
            tasks.append(client._new_task(P.APPLY, 0, self._apply_payload(chunk_f, cols, {}, fbytes)))
            sizes.append(len(cols[0]))
        ar = AsyncMapResult(client, [t.msg_id for t in tasks], sizes, fname=getattr(f, "__name__", "f"),
                            ordered=ordered, return_exceptions=return_exceptions)
        client._submit_lb(tasks, ar, retries=self.retries, targets=allowed, after=make_dependency(self.after),
                          follow=make_dependency(self.follow), timeout=self.timeout)
        return self._finish(ar, block)

    def imap(self, f, *sequences, ordered=True, max_outstanding="auto", return_exceptions=False):
        """Lazy load-balanced map over iterables (which may be endless): at most ``max_outstanding`` tasks are in
        flight ('auto': twice the engines), the next item is taken as a result is consumed. Yields results in
        input order (``ordered=False``: as they finish)."""
        import collections
        import itertools
        if max_outstanding == "auto":
            max_outstanding = 2 * max(1, len(self.client.ids))
        if not isinstance(max_outstanding, int) or max_outstanding < 1:
            raise ValueError(f"max_outstanding must be a positive int or 'auto', got {max_outstanding!r}")
        items = zip(*sequences)
        pending = collections.deque()

        def submit_more():
            for args in itertools.islice(items, max_outstanding - len(pending)):
                pending.append(self.apply_async(f, *args))

        submit_more()
        while pending:
            if ordered:
                ar = pending.popleft()
                ar.wait()
            else:
                done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                ar = next(a for a in pending if a in done)
                pending.remove(ar)
            submit_more()
            yield ar.get(return_exceptions=return_exceptions)

    def __repr__(self):
        return f"<LoadBalancedView {self.targets if self.targets is not None else 'None'}>"


class ViewExecutor(concurrent.futures.Executor):
    """``concurrent.futures.Executor`` over a view: ``submit`` returns an AsyncResult (a Future)."""

    def __init__(self, view):
        self.view = view

    def submit(self, fn, *args, **kwargs):
        return self.view.apply_async(fn, *args, **kwargs)

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        ar = self.view.map_async(fn, *iterables) if not isinstance(self.view, LoadBalancedView) else \
            self.view.map(fn, *iterables, block=False, chunksize=chunksize)
        return iter(ar)

    def shutdown(self, wait=True, **kwargs):
        if wait:
            self.view.wait()
