"""AsyncResult is a concurrent.futures.Future: the Future API works on it whether a result finished before anyone
looked (then no Condition is ever built: the client's cheap path for bursts of tiny tasks) or while someone waits."""

import concurrent.futures
import gc
import threading
import time

import pytest

import pympibridge.parallel as ipp


def _slow(x):
    return (__import__("time").sleep(0.3), x)[1]


_slow = ipp.interactive(_slow)  # sent by value: the engines cannot import this test module


def test_results_finished_before_anyone_waits_build_no_condition(rc):
    lb = rc.load_balanced_view()
    ars = [lb.apply_async(lambda i=i: i * 2) for i in range(200)]
    assert rc.wait(timeout=60)  # the client's own progress signal, not a wait on each result
    assert [a.get() for a in ars] == [2 * i for i in range(200)]
    # get/result/done/exception of a finished result read its state; none built a Condition
    assert all(a.done() and a.exception() is None for a in ars)
    assert sum(a._cond is not None for a in ars) == 0


def test_as_completed_yields_every_result_of_a_burst(rc):
    lb = rc.load_balanced_view()
    ars = [lb.apply_async(lambda i=i: i) for i in range(300)]
    got = sorted(f.result() for f in concurrent.futures.as_completed(ars, timeout=60))
    assert got == list(range(300))


def test_wait_first_completed_returns_when_one_finishes(rc):
    lb = rc.load_balanced_view()
    slow = lb.apply_async(_slow, 1)
    fast = lb.apply_async(lambda: 2)
    done, _ = concurrent.futures.wait([slow, fast], timeout=30, return_when=concurrent.futures.FIRST_COMPLETED)
    assert done and all(f.done() for f in done)
    assert slow.get(30) == 1


def test_done_callbacks_fire_once_before_and_after_completion(rc):
    lb = rc.load_balanced_view()
    ar = lb.apply_async(_slow, 7)
    calls = []
    ar.add_done_callback(lambda f: calls.append(("before", f.result())))
    assert ar.get(30) == 7
    ar.add_done_callback(lambda f: calls.append(("after", f.result())))
    deadline = time.monotonic() + 10
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(calls) == [("after", 7), ("before", 7)]


def test_a_waiter_blocked_before_completion_is_woken(rc):
    ar = rc.load_balanced_view().apply_async(_slow, 3)
    out = []
    t = threading.Thread(target=lambda: out.append(ar.result(timeout=30)))
    t.start()
    t.join(35)
    assert out == [3]


def test_remote_error_through_the_future_api(rc):
    ar = rc.load_balanced_view().apply_async(lambda: 1 / 0)
    assert rc.wait([ar], timeout=30)
    assert isinstance(ar.exception(), ipp.RemoteError)
    with pytest.raises(ipp.RemoteError) as info:
        ar.result()
    assert info.value.ename == "ZeroDivisionError"


def test_finished_results_are_freed_with_their_async_result(rc):
    # the client keeps what resubmit() needs, not the task and its AsyncResult
    lb = rc.load_balanced_view()
    ars = [lb.apply_async(lambda: None) for _ in range(50)]
    rc.wait(ars, timeout=60)
    gc.collect()
    before = sum(isinstance(o, ipp.AsyncResult) for o in gc.get_objects())
    del ars
    gc.collect()
    after = sum(isinstance(o, ipp.AsyncResult) for o in gc.get_objects())
    assert before - after >= 50
