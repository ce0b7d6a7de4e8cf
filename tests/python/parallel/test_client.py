"""Client behaviour, ported from ipyparallel's tests/test_client.py, plus engine death and cluster teardown."""
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timezone

import pytest

import pympibridge.parallel as ipp
from pympibridge.parallel import error
from pympibridge.parallel._wire import AuthenticationFailed
from pympibridge.parallel.view import DirectView, LoadBalancedView

from _remote import drain_abort_marks, poll, processes_naming, raises_remote, wait_for_records


def test_ids_are_the_engines(rc):
    assert rc.ids == [0, 1]
    assert len(rc) == 2
    ids = rc.ids
    ids.remove(ids[-1])
    assert rc.ids == [0, 1], "ids must be a copy"


def test_iterating_client_gives_one_view_per_engine(rc):
    views = list(rc)
    assert all(isinstance(v, DirectView) for v in views)
    assert [v.apply_sync(lambda: 1) for v in views] == [1, 1]
    assert [v.targets for v in views] == rc.ids


def test_view_indexing_resolves_targets(rc):
    ids = rc.ids
    v = rc[:]
    assert isinstance(v, DirectView)
    assert v.targets == ids
    v = rc[ids[1]]
    assert v.targets == ids[1]
    v = rc[ids[0:2]]
    assert v.targets == ids[0:2]
    v = rc[::2]
    assert v.targets == ids[::2]
    v = rc[-1]
    assert isinstance(v, DirectView)
    assert v.targets == ids[-1]


def test_indexing_with_none_or_string_raises_type_error(rc):
    with pytest.raises(TypeError):
        rc["a"]
    with pytest.raises(TypeError):
        rc[None]


def test_direct_view_targets(rc):
    assert rc.direct_view().targets == "all"
    assert rc.direct_view("all").targets == "all"
    assert rc.direct_view(-1).targets == rc.ids[-1]


def test_load_balanced_view_targets(rc):
    assert isinstance(rc.load_balanced_view(), LoadBalancedView)
    assert rc.load_balanced_view().targets is None
    assert rc.load_balanced_view("all").targets is None
    assert rc.load_balanced_view(-1).targets == [rc.ids[-1]]


def test_outstanding_tracks_running_tasks(rc):
    ar = rc[-1].apply_async(time.sleep, 0.5)
    msg_id = ar.msg_ids[0]
    assert msg_id in rc.outstanding
    ar.get(10)
    assert msg_id not in rc.outstanding
    assert msg_id in rc.history


def test_wait_for_everything_and_with_timeout(rc):
    ar = rc[:].apply_async(time.sleep, 0.5)
    assert rc.wait(timeout=0.05) is False
    assert rc.wait(timeout=10) is True
    assert ar.ready()
    assert rc.wait([ar], timeout=0) is True


def test_clear_empties_chosen_namespaces(rc):
    v = rc[:]
    v.block = True
    v.push(dict(a=5))
    assert v.pull("a") == [5, 5]
    id0 = rc.ids[-1]
    rc.clear(targets=id0, block=True)
    assert rc[:-1].get("a") == [5]
    with raises_remote("NameError"):
        rc[id0].get("a")
    rc.clear(block=True)
    for i in rc.ids:
        with raises_remote("NameError"):
            rc[i].get("a")


def test_queue_status_reports_every_engine(rc):
    qs = rc.queue_status(targets=rc.ids[0])
    assert {"completed", "queue", "tasks"} <= set(qs)
    allqs = rc.queue_status()
    assert allqs.pop("unassigned") == 0
    assert sorted(allqs) == rc.ids
    for eid, q in allqs.items():
        assert {"completed", "queue", "tasks"} <= set(q)
    ar = rc[0].apply_async(time.sleep, 0.5)
    rc[0].apply_async(time.sleep, 0.01)
    assert rc.queue_status(0)["queue"] >= 1
    ar.get(10)


def test_wait_for_engines_returns_when_registered(rc):
    assert rc.wait_for_engines(2, timeout=5) is None
    with pytest.raises(TimeoutError):
        rc.wait_for_engines(3, timeout=0.2)


def test_result_status_of_finished_task(rc):
    ar = rc[0].apply_async(lambda: 7)
    ar.get(10)
    status = rc.result_status(ar.msg_ids, status_only=False)
    assert status["completed"] == ar.msg_ids
    assert status["pending"] == []
    assert status[ar.msg_ids[0]] == 7


def test_abort_of_started_task_does_not_abort_another_clients_task(cluster):
    """Aborting a task that already started does nothing; in particular a later task of another client (whose
    sequence numbers start from the same value) must still run."""
    a = ipp.Client(url_file=cluster.cluster_file)
    b = None
    try:
        ar = a[0].apply_async(time.sleep, 0.5)
        time.sleep(0.2)  # it is running now
        a.abort(ar)
        assert ar.get(10) is None  # too late to abort: it finished normally
        b = ipp.Client(url_file=cluster.cluster_file)
        assert b[0].apply_sync(lambda: "ran") == "ran"
    finally:
        a.close()
        if b is not None:
            b.close()
        drain_abort_marks(cluster, 4)


# -- get_result / hub ----------------------------------------------------------------------------------------------

def test_get_result_of_own_task_is_local(rc):
    ar = rc[-1].apply_async(lambda: 11)
    ar.get(10)
    ar2 = rc.get_result(ar.msg_ids[0])
    assert not isinstance(ar2, ipp.AsyncHubResult)
    assert ar2.get(1) == 11


def test_get_result_accepts_async_result(rc):
    ar = rc[-1].apply_async(lambda: 11)
    ar.get(10)
    assert rc.get_result(ar).msg_ids == ar.msg_ids
    assert rc.get_result([ar]).msg_ids == ar.msg_ids


def test_get_result_of_other_clients_finished_task_from_hub(rc, cluster):
    c = ipp.Client(url_file=cluster.cluster_file)
    try:
        ar = c[-1].apply_async(lambda: 13)
        assert ar.get(10) == 13
        wait_for_records(rc, ar.msg_ids)
        ahr = rc.get_result(ar.msg_ids[0])
        assert isinstance(ahr, ipp.AsyncHubResult)
        assert ahr.get(5) == 13
        assert ahr.engine_id == ar.engine_id
    finally:
        c.close()


def test_get_result_of_other_clients_running_task_waits_for_it(rc, cluster):
    """ipyparallel: get_result of a task still running elsewhere gives an AsyncHubResult that completes."""
    c = ipp.Client(url_file=cluster.cluster_file)
    try:
        ar = c[-1].apply_async(lambda: (__import__("time").sleep(1), 17)[1])
        time.sleep(0.25)
        ahr = rc.get_result(ar.msg_ids[0])
        assert isinstance(ahr, ipp.AsyncHubResult)
        assert ahr.get(10) == ar.get(10) == 17
    finally:
        c.close()


def test_get_result_of_unknown_msg_id_raises_key_error(rc):
    with pytest.raises(KeyError):
        rc.get_result("no-such-task")


def _run_some(rc, n=4):
    ars = [rc[:].apply_async(lambda: 1) for _ in range(n)]
    ids = [m for ar in ars for m in ar.msg_ids]
    for ar in ars:
        ar.get(10)
    return ids


def test_db_query_by_date_with_gt_lt_gte(rc):
    ids = _run_some(rc)
    recs = wait_for_records(rc, ids)
    recs.sort(key=lambda r: r["submitted"])
    tic = recs[len(recs) // 2]["submitted"]
    assert isinstance(tic, datetime)
    before = rc.db_query({"msg_id": {"$in": ids}, "submitted": {"$lt": tic}})
    after = rc.db_query({"msg_id": {"$in": ids}, "submitted": {"$gte": tic}})
    later = rc.db_query({"msg_id": {"$in": ids}, "submitted": {"$gt": tic}})
    assert len(before) + len(after) == len(ids)
    assert all(r["submitted"] < tic for r in before)
    assert all(r["submitted"] >= tic for r in after)
    assert all(r["submitted"] > tic for r in later)
    assert len(later) < len(after)
    same = rc.db_query({"submitted": tic})
    assert same and all(r["submitted"] == tic for r in same)
    # a query over every record since a moment before these tasks finds all of them
    since = rc.db_query({"completed": {"$gt": recs[0]["submitted"]}}, keys=["msg_id"])
    assert set(ids) <= {r["msg_id"] for r in since}


def test_db_query_in_and_nin(rc):
    ids = _run_some(rc)
    wait_for_records(rc, ids)
    even, odd = ids[::2], ids[1::2]
    found = {r["msg_id"] for r in rc.db_query({"msg_id": {"$in": even}})}
    assert found == set(even)
    found = {r["msg_id"] for r in rc.db_query({"msg_id": {"$nin": even}})}
    assert set(odd) <= found
    assert not set(even) & found


def test_db_query_exists(rc):
    ids = _run_some(rc, 2)
    ar = rc[0].apply_async(lambda: 1 / 0)
    ar.wait(10)
    wait_for_records(rc, ids + ar.msg_ids)
    with_error = {r["msg_id"] for r in rc.db_query({"error": {"$exists": True}, "msg_id": {"$in": ids + ar.msg_ids}})}
    assert with_error == set(ar.msg_ids)
    without = {r["msg_id"] for r in rc.db_query({"error": {"$exists": False}, "msg_id": {"$in": ids + ar.msg_ids}})}
    assert without == set(ids)
    rec = rc.db_query({"msg_id": ar.msg_ids[0]})[0]
    assert rec["status"] == "error"
    assert rec["error"]["ename"] == "ZeroDivisionError"
    assert rec["engine_id"] == 0


def test_db_query_records_describe_tasks(rc):
    ar = rc[1].apply_async(lambda: print("recorded") or 5)
    ar.get(10)
    [rec] = wait_for_records(rc, ar.msg_ids)
    assert rec["msg_id"] == ar.msg_ids[0]
    assert rec["engine_id"] == 1
    assert rec["status"] == "ok"
    assert rec["stdout"] == "recorded\n"
    assert rec["client_uuid"] == rc.session
    assert rec["submitted"] <= rec["started"] <= rec["completed"] <= rec["received"]
    assert abs(rec["started"].timestamp() - ar.started.timestamp()) < 1e-3


def test_db_query_keys_select_fields_and_keep_msg_id(rc):
    ids = _run_some(rc, 1)
    wait_for_records(rc, ids)
    for keys in (["submitted", "completed"], ["submitted"], ["msg_id"]):
        found = rc.db_query({"msg_id": {"$in": ids}}, keys=keys)
        assert len(found) == len(ids)
        for rec in found:
            assert set(rec) == {"msg_id", *keys}


def test_db_query_default_keys_exclude_buffers(rc):
    ids = _run_some(rc, 1)
    wait_for_records(rc, ids)
    for rec in rc.db_query({"msg_id": {"$ne": ""}}):
        assert "buffers" not in rec
        assert "result_buffers" not in rec


def test_hub_history_is_in_submission_order(rc):
    ids = _run_some(rc, 2)
    wait_for_records(rc, ids)
    hist = rc.hub_history()
    recs = {r["msg_id"]: r for r in rc.db_query({"msg_id": {"$in": hist}}, keys=["submitted"])}
    stamps = [recs[m]["submitted"] for m in hist]
    assert stamps == sorted(stamps)
    ar = rc[-1].apply_async(lambda: 1)
    ar.get(10)
    wait_for_records(rc, ar.msg_ids)
    assert rc.hub_history()[-1:] == ar.msg_ids


def test_db_query_get_result_from_second_client(rc, cluster):
    ids = _run_some(rc, 1)
    wait_for_records(rc, ids)
    rc.db_query({"msg_id": {"$ne": ""}})
    rc2 = ipp.Client(url_file=cluster.cluster_file)
    try:
        ar = rc2.get_result(rc.history[-1])
        assert ar.wait(2)
        assert ar.get() == 1
    finally:
        rc2.close()


# -- resubmit / purge ----------------------------------------------------------------------------------------------

def test_resubmit_runs_task_again(rc):
    def f():
        import random
        return random.random()

    v = rc.load_balanced_view()
    ar = v.apply_async(f)
    r1 = ar.get(10)
    ahr = rc.resubmit(ar.msg_ids)
    r2 = ahr.get(10)
    assert r1 != r2
    assert ahr.msg_ids != ar.msg_ids


def test_resubmit_chain(rc):
    v = rc.load_balanced_view()
    ar = v.apply_async(lambda x: x, "x" * 1024)
    ar.get(10)
    ars = [ar]
    for _ in range(5):
        ars.append(rc.resubmit(ars[-1].msg_ids))
    assert [a.get(10) for a in ars] == ["x" * 1024] * 6


def test_resubmit_aborted_task(rc):
    v = rc.load_balanced_view(targets=[rc.ids[-1]])
    sleep = v.apply_async(time.sleep, 0.5)
    ar = v.apply_async(lambda: 3)
    ar.abort()
    with pytest.raises(error.TaskAborted):
        ar.get(10)
    assert rc.resubmit(ar.msg_ids).get(10) == 3
    sleep.get(10)


def test_resubmit_inflight_task(rc):
    v = rc.load_balanced_view()
    ar = v.apply_async(time.sleep, 0.5)
    time.sleep(0.1)
    ahr = rc.resubmit(ar.msg_ids)
    ar.get(10)
    ahr.get(10)


def test_resubmit_unknown_msg_id_raises_key_error(rc):
    with pytest.raises(KeyError):
        rc.resubmit(["invalid"])


def test_purge_hub_results_drops_one_record(rc):
    ids = _run_some(rc, 2)
    wait_for_records(rc, ids)
    hist = rc.hub_history()
    rc.purge_hub_results(hist[-1])
    assert rc.hub_history() == hist[:-1]


def test_purge_results_by_msg_id_drops_hub_record(rc):
    ids = _run_some(rc, 1)
    wait_for_records(rc, ids)
    rc.purge_results(ids[0])
    assert ids[0] not in rc.hub_history()
    assert rc.db_query({"msg_id": ids[0]}) == []


def test_purge_local_results_forgets_finished_tasks(rc):
    ar = rc[-1].apply_async(lambda: 1)
    ar.get(10)
    msg_id = ar.msg_ids[0]
    assert msg_id in rc.results and msg_id in rc.metadata
    rc.purge_local_results(ar)
    assert msg_id not in rc.results
    assert msg_id not in rc.metadata


def test_purge_local_results_of_outstanding_task_raises(rc):
    ar = rc[-1].apply_async(time.sleep, 1)
    with pytest.raises(RuntimeError):
        rc.purge_local_results(ar)
    with pytest.raises(RuntimeError):
        rc.purge_local_results("all")
    ar.get(10)
    rc.purge_local_results(ar)


def test_purge_all_results_clears_local_and_hub(rc):
    ids = _run_some(rc, 2)
    wait_for_records(rc, ids)
    rc.purge_results("all")
    assert len(rc.results) == 0
    assert len(rc.metadata) == 0
    assert rc.hub_history() == []


def test_purge_everything_clears_history_too(rc):
    ids = _run_some(rc, 2)
    wait_for_records(rc, ids)
    rc.purge_everything()
    assert len(rc.results) == 0
    assert len(rc.metadata) == 0
    assert len(rc.history) == 0
    assert rc.hub_history() == []


# -- connecting ----------------------------------------------------------------------------------------------------

def test_client_without_cluster_raises_os_error_saying_what_to_do(tmp_path):
    with pytest.raises(OSError) as info:
        ipp.Client(profile="no-such-profile", cluster_id="nothing", timeout=0.2)
    msg = str(info.value)
    assert "no cluster is running" in msg
    assert "Cluster(n=" in msg and "pympi cluster start" in msg


def test_client_with_stale_connection_file_raises_os_error(tmp_path, cluster):
    data = json.load(open(cluster.cluster_file))
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    data["controller"] = f"tcp://127.0.0.1:{port}"
    path = tmp_path / "stale-client.json"
    path.write_text(json.dumps(data))
    with pytest.raises(OSError, match="start one with"):
        ipp.Client(url_file=str(path), timeout=2)


def test_client_with_wrong_key_raises_authentication_failed(tmp_path, cluster):
    data = json.load(open(cluster.cluster_file))
    data["key"] = os.urandom(32).hex()
    path = tmp_path / "wrong-key-client.json"
    path.write_text(json.dumps(data))
    with pytest.raises(AuthenticationFailed):
        ipp.Client(url_file=str(path), timeout=5)


def test_connection_file_is_private(cluster):
    assert os.stat(cluster.cluster_file).st_mode & 0o077 == 0


def test_bind_kernel_and_joblib_are_explained():
    with pytest.raises(NotImplementedError):
        ipp.bind_kernel()


# -- engine death and teardown (dedicated clusters) ------------------------------------------------------------------

def _cluster_processes(sids):
    """pids of live (non-zombie) processes in the given sessions."""
    out = subprocess.run(["ps", "-eo", "pid=,sid=,stat="], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        pid, sid, stat = line.split(None, 2)
        if int(sid) in sids and not stat.startswith("Z"):
            found.add(int(pid))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.timeout(180)
def test_killed_engine_fails_outstanding_tasks_and_stop_leaves_no_process():
    c = ipp.Cluster(n=2, cluster_id=f"pytest-kill-{os.getpid()}", engine_timeout=60)
    rc = c.start_and_connect_sync()
    try:
        pids = rc[:].apply_sync(os.getpid)
        engine_sids = {os.getsid(p) for p in pids}
        sids = engine_sids | {os.getsid(c._proc.pid)}
        before = _cluster_processes(sids)
        assert set(pids) | {c._proc.pid} <= before

        victim = 1
        direct = rc[victim].apply_async(time.sleep, 60)
        queued = rc[victim].apply_async(lambda: 1)
        lb = rc.load_balanced_view(targets=[victim]).apply_async(time.sleep, 60)
        time.sleep(0.3)
        os.kill(pids[victim], signal.SIGKILL)
        t0 = time.monotonic()
        for ar in (direct, queued, lb):
            with pytest.raises(error.EngineError):
                ar.get(10)
        assert time.monotonic() - t0 < 10
        assert poll(lambda: victim not in rc.ids, 5), rc.ids
        with pytest.raises(error.EngineError):
            rc[victim].apply_sync(lambda: 1)
    finally:
        c.stop_cluster_sync()
    left = poll(lambda: not (_cluster_processes(sids) | {p for p in before if _alive(p)}), 15)
    assert left, f"processes of the cluster still alive: {_cluster_processes(sids) | {p for p in before if _alive(p)}}"
    assert not os.path.exists(c.cluster_file)


@pytest.mark.timeout(180)
def test_engine_killing_itself_fails_its_task_with_engine_error():
    c = ipp.Cluster(n=2, cluster_id=f"pytest-selfkill-{os.getpid()}", engine_timeout=60)
    rc = c.start_and_connect_sync()
    try:
        pids = rc[:].apply_sync(os.getpid)
        sids = {os.getsid(p) for p in pids} | {os.getsid(c._proc.pid)}
        ar = rc[0].execute("import os; os.kill(os.getpid(), 9)", block=False)
        with pytest.raises(error.EngineError):
            ar.get(10)
        assert poll(lambda: 0 not in rc.ids, 5), rc.ids
    finally:
        c.stop_cluster_sync()
    assert poll(lambda: not _cluster_processes(sids), 15), _cluster_processes(sids)


@pytest.mark.timeout(180)
def test_shutdown_of_one_engine_removes_it():
    c = ipp.Cluster(n=2, cluster_id=f"pytest-shutdown-{os.getpid()}", engine_timeout=60)
    rc = c.start_and_connect_sync()
    try:
        rc.shutdown(1, block=True)
        assert poll(lambda: 1 not in rc.ids, 15), rc.ids
        with pytest.raises((IndexError, error.EngineError)):
            rc[1].apply_sync(lambda: 1)
        assert rc[0].apply_sync(lambda: 5) == 5
    finally:
        c.stop_cluster_sync()


def test_send_signal_interrupts_the_running_task_and_the_engine_keeps_serving(rc):
    import signal as _signal
    e = rc[rc.ids[-1]]
    ar = e.apply_async(time.sleep, 30)
    time.sleep(0.5)  # let it start
    rc.send_signal(_signal.SIGINT, targets=rc.ids[-1])
    with pytest.raises(ipp.RemoteError) as info:
        ar.get(10)
    assert info.value.ename == "KeyboardInterrupt"
    assert e.apply_sync(lambda: "still here") == "still here"


def test_wait_interactive_prints_progress_until_done(rc, capsys):
    ar = rc.load_balanced_view().map_async(time.sleep, [0.1] * 6)
    ar.wait_interactive(interval=0.05)
    out = capsys.readouterr().out
    assert "6/6 tasks finished" in out
    assert ar.ready()


@pytest.mark.timeout(180)
def test_engines_that_cannot_start_fail_the_start_quickly_and_leave_no_controller(monkeypatch, tmp_path):
    # every rank fails before registering (its Python does not exist): the client must hear that the engines' job
    # ended, not wait out engine_timeout, and the failed start must not leave the controller behind
    monkeypatch.setenv("PYMPI_PYTHON", str(tmp_path / "no-such-python"))
    c = ipp.Cluster(n=2, cluster_id=f"pytest-nostart-{os.getpid()}", engine_timeout=150)
    t0 = time.monotonic()
    with pytest.raises(error.EngineError) as e:
        c.start_and_connect_sync()
    assert time.monotonic() - t0 < 100, "the start waited for its timeout instead of the engines' exit"
    msg = str(e.value)
    assert "exit code" in msg and "engines' log" in msg and "no-such-python" in msg
    assert poll(lambda: not processes_naming(c.cluster_id), 15), "the cluster's processes outlived the failed start"
    assert not os.path.exists(c.cluster_file)



def test_the_io_thread_outlives_an_engine_lost_before_its_read_and_a_failing_event(cluster):
    # found in CI: during restart_engines, the engine_died event closed an engine's socket, and the read event of that
    # socket in the same select() batch raised EBADF and ended the I/O thread: no reply or registration arrived again
    rc = cluster.connect_client_sync()
    try:
        rc.wait_for_engines(2, timeout=60)
        conn = rc._engines[0]
        with rc._lock:
            rc._engine_lost(conn, "lost for the test")
        rc._read_engine(conn)  # what the I/O thread does with a read event that was already in its batch

        handle = rc._handle_event
        failures = []

        def failing_once(what):
            if not failures:
                failures.append(what)
                raise RuntimeError("an event that cannot be handled")
            handle(what)
        rc._handle_event = failing_once
        assert rc[1].apply_sync(lambda: 6 * 7) == 42  # its reply is the event that fails: the next one still comes
        assert failures and rc._io.is_alive()
        assert rc[1].apply_sync(lambda: 6 * 7) == 42
        with pytest.raises(error.EngineError, match="lost for the test"):
            rc[0].apply_sync(lambda: 1)
    finally:
        rc.close()
