"""The load balancer of a Client: load-balanced tasks wait here until an engine has room.

It runs in the client, under the client's lock: a task finishing (a reply read by the I/O thread) immediately makes
room for the next, with no controller in between. An engine's room is about a millisecond of work (learnt from its
replies, see ``_EngineConn.hwm``): tiny tasks stream, long ones stay balanceable. ``after``/``follow`` dependencies,
``retries`` (on engines that have not failed the task) and ``timeout`` are decided here too.
"""

import heapq
import itertools
import time

from . import error

# Tasks a submitting thread lets queue up before it sends them to a starving engine itself: one system call per
# batch, not per task.
_FEED_BATCH = 32


def _least_loaded(engines):
    """A heap of (outstanding tasks, tie-break, engine, its room) over the engines with room left."""
    heap = []
    for i, c in enumerate(engines):
        cap = c.hwm()
        if c.lb_outstanding < cap:
            heap.append((c.lb_outstanding, i, c, cap))
    heapq.heapify(heap)
    return heap


class LoadBalancer:
    """Mixin of Client (which owns the state: ``_lb_queue``, ``_lb_waiting``, ``_engines``, ``_lock``)."""

    def _submit_lb(self, tasks, ar, retries=0, targets=None, after=None, follow=None, timeout=None):
        """Queues load-balanced tasks; the balancer sends them as engines have room."""
        deadline = time.monotonic() + timeout if timeout else None
        waiting = after is not None or follow is not None
        constrained = waiting or retries or targets is not None or deadline is not None
        now = time.time()
        with self._lock:
            requests, resubmittable = self._requests, self._resubmittable
            queue = self._lb_waiting if waiting else self._lb_queue
            for i, t in enumerate(tasks):
                t.ar, t.index, t.lb, t.submitted = ar, i, True, now
                if constrained:  # _Task's defaults are the unconstrained case: a burst of plain tasks skips these
                    t.retries, t.targets, t.after, t.follow, t.deadline = retries, targets, after, follow, deadline
                requests[t.msg_id] = t
                if len(t.payload) < 4:  # no array buffers: cheap to keep for resubmit()
                    # what resubmit() needs and nothing else: keeping the task would keep its AsyncResult (and
                    # every result of a long session) alive, and Python's cyclic GC would scan them all again
                    resubmittable[t.msg_id] = (t.kind, t.flags, tuple(t.payload))
                queue.append(t)
            self.history.extend(t.msg_id for t in tasks)
            wake = deadline is not None
            if len(self._lb_queue) == len(tasks) and not self._lb_outstanding():
                # an isolated call: send it now, it must not wait for the I/O thread
                self._dispatch_lb()
            elif len(self._lb_queue) >= _FEED_BATCH and self._engine_starving():
                # A burst an engine is running dry in: feed it a batch from here. The I/O thread would, but while
                # this thread submits in a loop it holds the GIL, and the I/O thread gets it back only every
                # switch interval (5 ms): the engines would idle through most of the burst.
                self._dispatch_lb()
            if (self._lb_queue or self._lb_waiting) and not self._dispatch_requested:
                # a burst: the I/O thread sends what has queued up by the time it runs, one system call per
                # engine instead of one per task
                self._dispatch_requested = wake = True
        if wake:
            self._wake()

    def _engine_starving(self):
        """Whether a live engine has less than half its room queued."""
        for c in self._engines.values():
            if c.alive and 2 * c.lb_outstanding < c.hwm():
                return True
        return False

    def _lb_outstanding(self):
        for c in self._engines.values():
            if c.lb_outstanding:
                return True
        return False

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
        # The common case first: an unconstrained task goes to the least loaded engine that has room (ipyparallel's
        # "leastload"), all of them in one pass over a heap of (outstanding tasks, engine), so a dispatch costs
        # O(log engines) per task. Least loaded, not most room: an engine that learnt a deep queue from tiny tasks
        # must not take every task of a following burst of long ones while the others idle.
        heap = _least_loaded(engines)
        while queue:
            task = queue[0]
            if task.targets is None and not task.tried and task.follow is None:
                if not heap:
                    return
                load, i, best, cap = heap[0]
                queue.popleft()
                if load + 1 < cap:
                    heapq.heapreplace(heap, (load + 1, i, best, cap))
                else:
                    heapq.heappop(heap)
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
            self._send(task, best.id, batch)
            heap = _least_loaded(engines)  # that engine's load changed (the constrained path is the rare one)

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

    def _retry(self, task, failed_engine):
        """Resubmits a failed load-balanced task on another engine; False when no retries remain."""
        if task.retries <= 0:
            return False
        task.retries -= 1
        task.tried = (task.tried or set()) | {failed_engine}
        self._lb_queue.append(task)
        return True
