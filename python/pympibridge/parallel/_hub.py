"""What a Client asks the controller (the hub): queue status, the task database, results of earlier tasks, purges.

Records reach the controller in batches from the engines, so a task that just finished may not be in the database
for a few tens of milliseconds; ``get_result`` waits for such tasks instead of failing.
"""

import pickle
import threading
import time

from . import _serialize
from . import error
from .asyncresult import AsyncHubResult, AsyncResult


class HubQueries:
    """Mixin of Client: the hub's API (needs ``_ask``, ``_lock``, ``results``, ``_raw_md``, ``history``)."""

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
            kind, flags, payload = original
            tasks.append(self._new_task(kind, flags, list(payload)))
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
