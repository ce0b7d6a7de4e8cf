"""Helpers shared by the parallel tests (plain functions, not fixtures)."""
import contextlib
import os
import time

import pytest

import pympibridge.parallel as ipp


@contextlib.contextmanager
def raises_remote(ename):
    """Expects a RemoteError raised by ``ename`` on an engine, or a CompositeError made only of those
    (ipyparallel's clienttest.raises_remote)."""
    with pytest.raises(ipp.RemoteError) as info:
        yield info
    e = info.value
    if isinstance(e, ipp.CompositeError):
        assert e.elist, "a CompositeError without errors"
        assert all(en == ename for en, *_ in e.elist), e.elist
    else:
        assert e.ename == ename, (e.ename, e.evalue)


def poll(predicate, timeout=5.0, interval=0.02):
    """Calls ``predicate`` until it returns something true (returned) or ``timeout`` passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


def wait_for_records(client, msg_ids, timeout=5.0):
    """The controller's records of ``msg_ids``, once all arrived (engines report in batches every ~20 ms)."""
    msg_ids = list(msg_ids)

    def fetch():
        recs = client.db_query({"msg_id": {"$in": msg_ids}})
        return recs if len(recs) == len(msg_ids) else None
    recs = poll(fetch, timeout)
    assert recs is not None, f"the controller did not record {msg_ids} within {timeout} s"
    return recs


def drain_abort_marks(cluster, max_seq):
    """Works around the engine keeping the seq of an aborted task that had already started (see
    test_client.py::test_abort_of_started_task_does_not_abort_another_clients_task): for each engine a throwaway
    client runs tasks with seqs 1..max_seq there, which consumes those marks, so the abort does not leak into later
    tests."""
    probe = ipp.Client(url_file=cluster.cluster_file)
    ids = probe.ids
    probe.close()
    for eid in ids:
        client = ipp.Client(url_file=cluster.cluster_file)
        try:
            ars = [client[eid].apply_async(int) for _ in range(max_seq)]
            for ar in ars:
                ar.wait(10)
        finally:
            client.close()


def processes_naming(word):
    """Pids of live (not zombie) processes other than this one whose command line contains ``word``."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if word.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            found.add(int(entry))
        except OSError:
            pass
    return found
