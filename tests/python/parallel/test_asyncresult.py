"""AsyncResult / AsyncMapResult behaviour, ported from ipyparallel's tests/test_asyncresult.py."""
import time
from datetime import datetime

import pytest

import pympibridge.parallel as ipp
from pympibridge.parallel import error

from _remote import raises_remote, wait_for_records

METADATA_KEYS = {"submitted", "started", "completed", "received", "engine_id", "status", "stdout", "stderr",
                 "error"}


def test_single_target_gives_single_result_list_target_gives_list(rc):
    eid = rc.ids[-1]
    assert rc[eid].apply_async(lambda: 42).get(10) == 42
    assert rc[[eid]].apply_async(lambda: 42).get(10) == [42]
    assert rc[-1:].apply_async(lambda: 42).get(10) == [42]


def test_get_after_done_can_be_repeated(rc):
    ar = rc[-1].apply_async(lambda: 42)
    ar.wait()
    assert ar.ready()
    assert ar.get() == 42
    assert ar.get() == 42


def test_get_with_timeout_raises_timeout_error_before_done(rc):
    ar = rc[-1].apply_async(time.sleep, 0.5)
    with pytest.raises(TimeoutError):
        ar.get(0)
    with pytest.raises(TimeoutError):
        ar.get(0.05)
    assert ar.wait(0) is False
    assert not ar.ready()
    assert ar.get(10) is None
    assert ar.ready()


def test_get_after_error_raises_every_time(rc):
    ar = rc[-1].apply_async(lambda: 1 / 0)
    ar.wait(10)
    assert ar.ready()
    assert not ar.successful()
    with raises_remote("ZeroDivisionError"):
        ar.get()
    with raises_remote("ZeroDivisionError"):
        ar.get()
    with raises_remote("ZeroDivisionError"):
        ar.get_dict()


def test_successful_before_ready_raises(rc):
    ar = rc[-1].apply_async(time.sleep, 0.3)
    with pytest.raises(TimeoutError):
        ar.successful()
    ar.get(10)
    assert ar.successful()


def test_get_dict_maps_engine_id_to_result(rc):
    ar = rc[:].apply_async(lambda: 5)
    assert ar.get(10) == [5] * len(rc)
    assert ar.get_dict() == {eid: 5 for eid in rc.ids}


def test_get_dict_single_target(rc):
    eid = rc.ids[-1]
    view = rc[eid]
    for v in (list(range(5)), 5, ("abc", "def"), "string"):
        ar = view.apply_async(lambda x: x, v)
        assert ar.get(10) == v
        assert ar.get_dict() == {eid: v}


def test_get_dict_raises_when_an_engine_ran_several_tasks(rc):
    amr = rc.load_balanced_view().map_async(lambda x: x, range(len(rc) * 2))
    amr.get(10)
    with pytest.raises(ValueError):
        amr.get_dict()


def test_iterating_map_result_yields_items(rc):
    ar = rc.load_balanced_view().map_async(lambda x: (__import__("time").sleep(x), x)[1], [0.05] * 5)
    assert list(ar) == [0.05] * 5


def test_iterating_multi_engine_result_yields_per_engine(rc):
    ar = rc[:].apply_async(time.sleep, 0.1)
    assert list(ar) == [None] * len(rc)


def test_iterating_failed_map_raises_before_and_after_completion(rc):
    amr = rc[:].map_async(lambda x: 1 / (x - 2), range(5))
    with raises_remote("ZeroDivisionError"):
        list(amr)
    with raises_remote("ZeroDivisionError"):
        amr.get(10)
    amr.wait(10)
    with raises_remote("ZeroDivisionError"):
        list(amr)


def test_getattr_exposes_metadata_and_rejects_unknown(rc):
    ar = rc[:].apply_async(time.sleep, 0.5)
    assert ar.completed == [None] * len(ar)
    with pytest.raises(AttributeError):
        ar._foo
    with pytest.raises(AttributeError):
        ar.__length_hint__()
    with pytest.raises(AttributeError):
        ar.foo
    assert not hasattr(ar, "foo")
    assert hasattr(ar, "engine_id")
    ar.get(10)
    with pytest.raises(AttributeError):
        ar.foo
    assert isinstance(ar.engine_id, list)
    assert ar.engine_id == ar["engine_id"] == rc.ids


def test_getitem_by_metadata_key(rc):
    ar = rc[:].apply_async(time.sleep, 0.5)
    assert ar["completed"] == [None] * len(ar)
    with pytest.raises(KeyError):
        ar["foo"]
    ar.get(10)
    with pytest.raises(KeyError):
        ar["foo"]
    assert isinstance(ar["completed"], list)
    assert ar.completed == ar["completed"]
    assert all(isinstance(dt, datetime) for dt in ar.completed)


def test_single_result_metadata_is_not_a_list(rc):
    ar = rc[-1].apply_async(lambda t: (__import__("time").sleep(t), t)[1], 0.5)
    with pytest.raises(KeyError):
        ar["foo"]
    assert ar["completed"] is None
    assert ar.get(10) == 0.5
    assert isinstance(ar["completed"], datetime)
    assert ar.completed == ar["completed"]


def test_abort_queued_task_raises_task_aborted(rc):
    e = rc[-1]
    ar = e.execute("import time; time.sleep(1)", block=False)
    ar2 = e.apply_async(lambda: 2)
    ar2.abort()
    with pytest.raises(error.TaskAborted):
        ar2.get(10)
    ar.get(10)
    with pytest.raises(RuntimeError):
        ar.abort()  # already done


def test_len_counts_tasks_or_map_items(rc):
    v = rc.load_balanced_view()
    ar = v.map_async(lambda x: x, list(range(10)))
    assert len(ar) == 10
    assert len(v.apply_async(lambda x: x, list(range(10)))) == 1
    assert len(rc[:].apply_async(lambda x: x, list(range(10)))) == len(rc.ids)
    ar.get(10)


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_wall_time(rc, kind):
    view = rc.load_balanced_view() if kind == "single" else rc[:]
    ar = view.apply_async(time.sleep, 0.25)
    with pytest.raises(TimeoutError):
        ar.wall_time
    ar.get(10)
    assert 0.2 < ar.wall_time < 2.0


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_serial_time_sums_engine_time(rc, kind):
    view = rc.load_balanced_view() if kind == "single" else rc[:]
    ar = view.apply_async(time.sleep, 0.25)
    with pytest.raises(TimeoutError):
        ar.serial_time
    ar.get(10)
    n = 1 if kind == "single" else len(rc)
    assert 0.24 * n < ar.serial_time < 1.0 * n


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_elapsed_grows_while_pending(rc, kind):
    view = rc.load_balanced_view() if kind == "single" else rc[:]
    ar = view.apply_async(time.sleep, 0.25)
    first = ar.elapsed
    assert first >= 0
    while not ar.ready():
        time.sleep(0.01)
        assert ar.elapsed < 5
    ar.get(10)
    assert ar.elapsed >= 0.24
    assert ar.elapsed > first


def test_hub_result_has_same_timestamps(rc, cluster):
    ar = rc[:].apply_async(time.sleep, 0.25)
    ar.get(10)
    wait_for_records(rc, ar.msg_ids)
    rc2 = ipp.Client(url_file=cluster.cluster_file)
    try:
        hr = rc2.get_result(ar.msg_ids)
        assert isinstance(hr, ipp.AsyncHubResult)
        assert hr.get(5) == [None] * len(rc)
        assert hr.elapsed > 0.0
        assert hr.wall_time < ar.wall_time + 0.5
        assert hr.serial_time == pytest.approx(ar.serial_time, abs=1e-5)
    finally:
        rc2.close()


def test_progress_counts_finished_items(rc):
    amr = rc[:].map_async(time.sleep, [0.2] * 2 * len(rc))
    assert len(amr) == 2 * len(rc)
    assert amr.progress == 0
    amr.wait(10)
    assert amr.progress == len(amr)
    ar = rc[:].apply_async(time.sleep, 0.2)
    assert ar.progress == 0
    ar.wait(10)
    assert ar.progress == len(rc)


def test_metadata_has_ipyparallel_keys(rc):
    ar = rc[:].apply_async(lambda: print("hello") or 1)
    ar.get(10)
    for eid, md in zip(rc.ids, ar.metadata):
        assert METADATA_KEYS <= set(md)
        assert md["engine_id"] == md.engine_id == eid
        assert md["status"] == "ok"
        assert md["stdout"] == "hello\n"
        assert md["stderr"] == ""
        assert md["error"] is None
        assert md["submitted"] <= md["started"] <= md["completed"] <= md["received"]
        assert all(isinstance(md[k], datetime) for k in ("submitted", "started", "completed", "received"))


def test_metadata_of_failed_task_holds_error(rc):
    ar = rc[-1].apply_async(lambda: 1 / 0)
    ar.wait(10)
    md = ar.metadata
    assert md["status"] == "error"
    assert md["error"]["ename"] == "ZeroDivisionError"


def test_stdout_and_stderr_captured_per_task(rc):
    def talk(i):
        import sys
        print(f"out {i}")
        print(f"err {i}", file=sys.stderr)
        return i

    lb = rc.load_balanced_view()
    ars = [lb.apply_async(talk, i) for i in range(6)]
    for i, ar in enumerate(ars):
        assert ar.get(10) == i
        assert ar.stdout == f"out {i}\n"
        assert ar.stderr == f"err {i}\n"
    ar = rc[:].execute("import sys; print('x'); print('y', file=sys.stderr)", block=True)
    assert ar.stdout == ["x\n"] * len(rc)
    assert ar.stderr == ["y\n"] * len(rc)


def test_display_outputs_prefixes_engine_and_skips_empty_streams(rc, capsys):
    eid = rc.ids[-1]
    ar = rc[[eid]].execute("print(5555)")  # a list of engines: every output is prefixed with its engine
    ar.get(10)
    capsys.readouterr()
    ar.display_outputs()
    captured = capsys.readouterr()
    assert captured.out == f"[stdout:{eid}] 5555\n"
    assert "[stderr" not in captured.err


def test_display_outputs_of_a_single_engine_result_has_no_prefix(rc, capsys):
    # as ipyparallel: an int target gives a single result, shown bare
    ar = rc[rc.ids[-1]].execute("print(5555)")
    ar.get(10)
    capsys.readouterr()
    ar.display_outputs()
    assert capsys.readouterr().out == "5555\n"


def test_return_exceptions_in_map_result(rc):
    def fail_on_2(n):
        if n == 2:
            raise ValueError("two!")
        return n

    amr = rc.load_balanced_view().map(fail_on_2, range(4), return_exceptions=True, block=False)
    rlist = list(amr)
    err = rlist[2]
    assert isinstance(err, ipp.RemoteError)
    assert err.ename == "ValueError"
    assert rlist == [0, 1, err, 3]
    assert amr.get(10) == [0, 1, err, 3]


def test_get_return_exceptions_after_failure(rc):
    dv = rc[:]
    dv.scatter("rank", rc.ids, flatten=True, block=True)
    bad_id = rc.ids[1]

    def fail_on_bad_id(rank, bad_id):
        if rank == bad_id:
            raise ValueError(f"{rank} is bad!")
        return rank

    ar = dv.apply_async(fail_on_bad_id, ipp.Reference("rank"), bad_id)
    with raises_remote("ValueError"):
        ar.get(10)
    result = ar.get(return_exceptions=True)
    assert result[0] == rc.ids[0]
    assert isinstance(result[1], ipp.RemoteError)


# -- errors --------------------------------------------------------------------------------------------------------

def test_remote_error_carries_ename_evalue_traceback(rc):
    def boom():
        raise KeyError("the-missing-key")

    with pytest.raises(ipp.RemoteError) as info:
        rc[0].apply_sync(boom)
    e = info.value
    assert not isinstance(e, ipp.CompositeError)
    assert e.ename == "KeyError"
    assert "the-missing-key" in e.evalue
    assert "boom" in e.traceback
    assert "KeyError" in e.traceback
    assert e.engine_info["engine_id"] == 0
    assert "KeyError" in str(e)
    assert "KeyError" in "\n".join(e.render_traceback())


@pytest.mark.parametrize("method", ["apply", "execute"])
def test_composite_error_collects_each_engine(rc, method):
    dv = rc[:]
    ar = dv.apply_async(lambda: 1 / 0) if method == "apply" else dv.execute("1 / 0", block=False)
    with pytest.raises(ipp.CompositeError) as info:
        ar.get(10)
    exc = info.value
    assert isinstance(exc, ipp.error.RemoteError)
    assert [e[0] for e in exc.elist] == ["ZeroDivisionError"] * len(rc)
    expected = [{"engine_id": eid, "engine_uuid": rc._engines[eid].uuid, "method": method} for eid in rc.ids]
    assert [e[-1] for e in exc.elist] == expected
    with pytest.raises(ipp.RemoteError) as one:
        exc.raise_exception(1)
    assert one.value.ename == "ZeroDivisionError"
    assert one.value.engine_info["engine_id"] == rc.ids[1]


def test_composite_error_truncates_rendered_traceback(rc):
    ars = [rc[:].execute("1/0") for _ in range(3)]
    for ar in ars:
        ar.wait(10)
    elist = []
    for ar in ars:
        with pytest.raises(ipp.CompositeError) as info:
            ar.get()
        elist.extend(info.value.elist)
    e = ipp.CompositeError("many", elist)
    lines = e.render_traceback()
    assert "more exceptions" in lines[-1]
    assert "\n".join(lines).count("ZeroDivisionError") >= e.tb_limit


def test_a_held_result_costs_the_cyclic_gc_at_most_four_objects(rc):
    # a flood of held results is scanned by every full collection: each one's Future lists and Condition are made
    # only when someone waits on it or adds a callback
    import gc
    lb = rc.load_balanced_view()
    for ar in [lb.apply_async(lambda: None) for _ in range(200)]:
        ar.get()  # warm: the client's own structures exist
    gc.collect()
    before = len(gc.get_objects())
    held = [lb.apply_async(lambda: None) for _ in range(2000)]
    assert rc.wait(timeout=60)  # the client's own wait for everything outstanding: no result gets a Condition
    gc.collect()
    per_result = (len(gc.get_objects()) - before) / len(held)
    assert per_result <= 4.2, f"{per_result:.2f} GC-tracked objects per held AsyncResult"
    assert all(ar._cond is None for ar in held), "results nobody waited on have no Condition"
    assert [ar.get() for ar in held[:3]] == [None] * 3
