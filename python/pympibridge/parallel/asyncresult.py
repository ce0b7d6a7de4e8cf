"""AsyncResult and AsyncMapResult: ipyparallel's result objects, as ``concurrent.futures.Future`` subclasses.

Timestamps arrive as floats with each reply; the ``Metadata`` dicts (with datetimes) are built only when asked for,
so a burst of tiny tasks does not pay for bookkeeping nobody reads.
"""

import concurrent.futures
from concurrent.futures._base import FINISHED as _FINISHED, PENDING as _PENDING
import datetime
import sys
import threading
import time

from . import error
from ._protocol import utc_datetime

# Guards the lazy creation of a result's Condition against its completion on the I/O thread (see AsyncResult).
_CONDITION_LOCK = threading.Lock()


class Metadata(dict):
    """A task's metadata, a dict with attribute access (``md.engine_id``, ``md['stdout']``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def make_metadata(raw):
    """raw = (msg_id, engine_id, engine_uuid, submitted, started, completed, received, status, stdout, stderr,
    error, execute_result)"""
    (msg_id, engine_id, engine_uuid, submitted, started, completed, received, status, stdout, stderr,
     err, execute_result) = raw
    return Metadata(msg_id=msg_id, engine_id=engine_id, engine_uuid=engine_uuid, submitted=utc_datetime(submitted),
                    started=utc_datetime(started), completed=utc_datetime(completed), received=utc_datetime(received), status=status,
                    stdout=stdout, stderr=stderr, error=err, execute_result=execute_result,
                    outputs=[], data={}, follow=[], after=[])


class ExecuteReply:
    """The value of an expression run with ``execute``/``%px``, shown as ``Out[engine:count]: value``."""

    def __init__(self, engine_id, count, text):
        self.engine_id = engine_id
        self.execution_count = count
        self.data = {"text/plain": text}

    @property
    def execute_result(self):
        """ipyparallel's execute_result message content: {'data': ..., 'execution_count': ..., 'metadata': ...}."""
        return {"data": self.data, "execution_count": self.execution_count, "metadata": {}}

    def __getitem__(self, key):
        # ipyparallel's metadata['execute_result'] is that dict: ar.execute_result[0]['data'] keeps working
        return self.execute_result[key]

    def __repr__(self):
        text = self.data["text/plain"]
        return f"<ExecuteReply[{self.execution_count}]: {text if len(text) <= 32 else text[:29] + '...'}>"

    def _repr_pretty_(self, p, cycle):
        p.text(f"Out[{self.engine_id}:{self.execution_count}]: {self.data['text/plain']}")

    def __str__(self):
        return f"Out[{self.engine_id}:{self.execution_count}]: {self.data['text/plain']}"


class AsyncResult(concurrent.futures.Future):
    """The pending result of one or more tasks. ``get()`` returns one value for a single target (an ``int``
    target, or ``apply`` on a load-balanced view) and a list otherwise."""

    _single_result = False
    _cond = None

    def __init__(self, client, msg_ids, fname="unknown", targets=None, owner=False, return_exceptions=False,
                 single_result=None):
        self._future_init()
        self._client = client
        self.msg_ids = list(msg_ids)
        self._fname = fname
        self._targets = targets
        self._return_exceptions = return_exceptions
        if single_result is not None:
            self._single_result = single_result
        n = len(self.msg_ids)
        self._results = [None] * n
        self._raw_md = [None] * n
        self._remaining = n
        self._ready = n == 0
        self._success = None
        self._created = time.time()
        if n == 0:
            self._finalize()

    # called by the client, under its lock, from its I/O thread
    def _task_done(self, index, value, raw_md):
        self._results[index] = value
        self._raw_md[index] = raw_md
        self._remaining -= 1
        if self._remaining == 0:
            self._finalize()

    def _future_init(self):
        # Future.__init__ builds a threading.Condition per result: ~40% of the client's cost of a tiny task. Most
        # results of a burst are finished before anyone waits on them, so the Condition is made on first use
        # (the `_condition` property) and Future's other fields are set here. Its two lists are made on first use
        # too (properties below): a flood of 20,000 held results cost 16-24 us of client CPU per task instead of 8,
        # most of it Python's cyclic GC scanning them, and these were two of the six objects it scans per result.
        self._state = _PENDING
        self._result = None
        self._exception = None

    def _list_made_on_use(self, key):
        found = self.__dict__.get(key)
        if found is None:
            found = self.__dict__[key] = []
        return found

    # Future's code only ever reads these two attributes (appending, removing, iterating), never rebinds them
    _waiters = property(lambda self: self._list_made_on_use("_waiters_list"))
    _done_callbacks = property(lambda self: self._list_made_on_use("_callbacks_list"))

    @property
    def _condition(self):
        """Future's Condition, made when someone first waits, adds a callback or asks ``done()``."""
        cond = self._cond
        if cond is None:
            with _CONDITION_LOCK:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition()
        return cond

    # Future's readers take the Condition even when the result is there: a finished result answers without one
    def done(self):
        return self._state == _FINISHED or super().done()

    def result(self, timeout=None):
        if self._state == _FINISHED:
            if self._exception is not None:
                try:
                    raise self._exception
                finally:
                    self = None  # as Future: no cycle through the traceback's frame
            return self._result
        return super().result(timeout)

    def exception(self, timeout=None):
        if self._state == _FINISHED:
            return self._exception
        return super().exception(timeout)

    def _settle(self, result, exception):
        """Future.set_result/set_exception, without a Condition when nobody has made one: nobody can be waiting
        then, and no callback can be registered (both go through ``_condition``). Checked under the lock that
        creates it, so a waiter arriving at the same time either sees the finished state or gets notified."""
        with _CONDITION_LOCK:
            if self._cond is None:
                self._result, self._exception = result, exception
                self._state = _FINISHED
                return
        if exception is None:
            self.set_result(result)
        else:
            self.set_exception(exception)

    def _finalize(self):
        self._ready = True
        errors = [r for r in self._results if isinstance(r, error.KernelError)]
        self._success = not errors
        if not errors:
            self._settle(self._reconstruct_result(self._results), None)
            return
        if self._single_result and len(self._results) == 1:
            exc = errors[0]
        elif len(errors) == 1 and self._single_result:
            exc = errors[0]
        else:
            elist = []
            for e in errors:
                if isinstance(e, error.RemoteError):
                    elist.append((e.ename, e.evalue, e.traceback, e.engine_info))
                else:
                    elist.append((type(e).__name__, str(e), None, getattr(e, "engine_info", {}) or {}))
            exc = error.CompositeError(f"one or more exceptions raised in: {self._fname}", elist)
        self._settle(None, exc)

    def _reconstruct_result(self, results):
        return results[0] if self._single_result else list(results)

    # ---- waiting -----------------------------------------------------------------------------------------------

    def get(self, timeout=None, return_exceptions=None):
        """The result, waiting up to ``timeout`` seconds (None or -1: forever); raises TimeoutError if not ready.
        A remote exception is raised as RemoteError (CompositeError for several engines)."""
        if timeout is not None and timeout < 0:
            timeout = None
        if not self.wait(timeout):
            raise TimeoutError("Result not ready.")
        if return_exceptions is None:
            return_exceptions = self._return_exceptions
        if self._success or not return_exceptions:
            return self.result()
        return self._reconstruct_result(self._results)

    def wait(self, timeout=-1):
        """Waits until the result is ready or ``timeout`` seconds pass; returns whether it is ready."""
        if self._ready:
            return True
        if timeout is not None and timeout < 0:
            timeout = None
        with self._condition:
            self._condition.wait_for(self.done, timeout)
        return self._ready

    def ready(self):
        return self._ready

    def successful(self):
        if not self._ready:
            raise TimeoutError("Result not ready: successful() needs a finished result (call wait() first).")
        return self._success

    def get_dict(self, timeout=-1):
        """{engine_id: result}; raises ValueError if one engine ran several of the tasks."""
        results = self.get(timeout)
        if self._single_result:
            results = [results]
        engine_ids = [md[1] for md in self._raw_md]
        if len(set(engine_ids)) != len(engine_ids):
            raise ValueError("Cannot build dict, {} tasks ran on {} engines".format(len(engine_ids),
                                                                                     len(set(engine_ids))))
        return dict(zip(engine_ids, results))

    @property
    def r(self):
        return self.get()

    def abort(self):
        """Aborts the tasks that have not started yet (they fail with TaskAborted)."""
        if self._ready:
            raise RuntimeError("Can't abort, I am already done!")
        self._client.abort(self)

    @property
    def sent(self):
        return True

    def wait_for_send(self, timeout=-1):
        return True

    # ---- metadata ----------------------------------------------------------------------------------------------

    @property
    def metadata(self):
        mds = [make_metadata(raw) if raw else Metadata(msg_id=m, submitted=None, started=None, completed=None,
                                                        received=None, engine_id=None, status=None, stdout="",
                                                        stderr="", error=None, execute_result=None)
               for raw, m in zip(self._raw_md, self.msg_ids)]
        return mds[0] if self._single_result and len(mds) == 1 else mds

    def _md_field(self, position):
        values = [raw[position] if raw else None for raw in self._raw_md]
        return values[0] if self._single_result and len(values) == 1 else values

    @property
    def engine_id(self):
        return self._md_field(1)

    @property
    def stdout(self):
        return self._md_field(8)

    @property
    def stderr(self):
        return self._md_field(9)

    @property
    def execute_result(self):
        return self._md_field(11)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        md = self.metadata
        sample = md if isinstance(md, dict) else (md[0] if md else {})
        if key not in sample:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")
        return md[key] if isinstance(md, dict) else [m[key] for m in md]

    def __getitem__(self, key):
        if isinstance(key, int):
            if not self._ready:
                raise TimeoutError("Result not ready.")
            results = self.get()
            return results if self._single_result else results[key]
        if isinstance(key, slice):
            return self.get()[key]
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                raise KeyError(key) from None  # ar['foo'] is a mapping lookup, as in ipyparallel
        raise TypeError(f"Invalid key type {type(key).__name__!r}, expected int, slice or str")

    # ---- timing ------------------------------------------------------------------------------------------------

    def _stamps(self, position):
        return [raw[position] for raw in self._raw_md if raw and raw[position]]

    @property
    def submitted(self):
        return self._md_datetime(3)

    @property
    def started(self):
        return self._md_datetime(4)

    @property
    def completed(self):
        return self._md_datetime(5)

    @property
    def received(self):
        return self._md_datetime(6)

    def _md_datetime(self, position):
        values = [utc_datetime(raw[position]) if raw else None for raw in self._raw_md]
        return values[0] if self._single_result and len(values) == 1 else values

    @property
    def elapsed(self):
        """Seconds since the first submission (until the last result arrived, once ready)."""
        if self._ready:
            return self.wall_time
        submitted = self._stamps(3)
        return time.time() - (min(submitted) if submitted else self._created)

    @property
    def serial_time(self):
        """Sum over tasks of (completed - started): the time the work took on the engines, summed."""
        self._check_ready()
        return sum(raw[5] - raw[4] for raw in self._raw_md if raw and raw[4] and raw[5])

    @property
    def wall_time(self):
        """Seconds from the earliest submission to the latest reception."""
        self._check_ready()
        submitted, received = self._stamps(3), self._stamps(6)
        if not submitted or not received:
            return 0.0
        return max(received) - min(submitted)

    def timedelta(self, start, end, start_key=min, end_key=max):
        if not isinstance(start, datetime.datetime):
            start = start_key(start)
        if not isinstance(end, datetime.datetime):
            end = end_key(end)
        return (end - start).total_seconds()

    def _check_ready(self):
        if not self._ready:
            raise TimeoutError("Result not ready.")

    @property
    def progress(self):
        """How many of the tasks have completed."""
        return len(self.msg_ids) - self._remaining

    def __len__(self):
        return len(self.msg_ids)

    # ---- iteration and display ---------------------------------------------------------------------------------

    def __iter__(self):
        if self._single_result:
            yield self.get()
            return
        # yield results in order as they arrive
        for i in range(len(self.msg_ids)):
            while self._raw_md[i] is None and not self._ready:
                self._client._wait_for(self, timeout=0.5)
            value = self._results[i]
            if isinstance(value, error.KernelError) and not self._return_exceptions:
                self.get()  # raises the composite error
            yield value

    def wait_interactive(self, interval=0.1, timeout=-1, widget=None, return_when=None):
        """Waits, printing ``progress/total tasks done, elapsed`` every ``interval`` seconds (long work shows
        progress); raises TimeoutError if ``timeout`` passes first."""
        deadline = None if timeout is None or timeout < 0 else time.time() + timeout
        total = len(self)
        while not self.ready():
            if deadline is not None and time.time() >= deadline:
                print()
                raise TimeoutError(f"{self.progress}/{total} tasks finished within {timeout} s")
            print(f"\r{self.progress:4}/{total} tasks finished after {self.elapsed:6.1f} s", end="", flush=True)
            self.wait(interval if deadline is None else max(0.0, min(interval, deadline - time.time())))
        print(f"\r{total:4}/{total} tasks finished after {self.elapsed:6.1f} s", flush=True)

    def display_outputs(self, groupby="type", result_only=False):
        """Prints each engine's stdout, stderr and execute result as ipyparallel does (``[stdout:0] ...``,
        ``Out[0:3]: 5050``); ``groupby`` is 'type', 'engine' or 'order'."""
        self.wait()
        from .magics import display_outputs
        display_outputs(self, groupby, result_only)

    def __repr__(self):
        state = "pending" if not self._ready else ("finished" if self._success else "failed")
        return f"<{type(self).__name__}({self._fname}): {state}>"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


class AsyncMapResult(AsyncResult):
    """The result of a map: each task computed a chunk; ``get()`` is the flat list in the order of the input
    (completion order when ``ordered=False``); iterating yields items as their chunks arrive."""

    def __init__(self, client, msg_ids, chunk_sizes, fname="map", ordered=True, return_exceptions=False,
                 targets=None):
        self._chunk_sizes = list(chunk_sizes)
        self._ordered = ordered
        self._arrival = []
        super().__init__(client, msg_ids, fname=fname, targets=targets, return_exceptions=return_exceptions,
                         single_result=False)

    def _task_done(self, index, value, raw_md):
        self._arrival.append(index)
        super()._task_done(index, value, raw_md)

    def _reconstruct_result(self, results):
        order = range(len(results)) if self._ordered else self._arrival
        flat = []
        for i in order:
            chunk = results[i]
            if isinstance(chunk, error.KernelError):
                flat.append(chunk)
            else:
                flat.extend(chunk)
        return flat

    @property
    def progress(self):
        return sum(self._chunk_sizes[i] for i in range(len(self.msg_ids)) if self._raw_md[i] is not None)

    def __len__(self):
        return sum(self._chunk_sizes)

    def __iter__(self):
        if self._ordered:
            order = range(len(self.msg_ids))
            for i in order:
                while self._raw_md[i] is None and not self._ready:
                    self._client._wait_for(self, timeout=0.5)
                yield from self._chunk_items(i)
        else:
            seen = 0
            while seen < len(self.msg_ids):
                while len(self._arrival) <= seen and not self._ready:
                    self._client._wait_for(self, timeout=0.5)
                if len(self._arrival) <= seen:
                    break
                yield from self._chunk_items(self._arrival[seen])
                seen += 1

    def _chunk_items(self, i):
        chunk = self._results[i]
        if isinstance(chunk, error.KernelError):
            if self._return_exceptions:
                yield chunk
                return
            raise chunk
        yield from chunk


class AsyncHubResult(AsyncResult):
    """Results fetched from the controller's task database (tasks another client submitted)."""
