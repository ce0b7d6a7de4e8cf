"""LoadBalancedView behaviour, ported from ipyparallel's tests/test_lbview.py."""
import time

import pytest

import pympibridge.parallel as ipp
from pympibridge.parallel import error

from _remote import raises_remote


@pytest.fixture
def view(rc):
    return rc.load_balanced_view()


def test_map_returns_results_in_input_order(view):
    def f(x):
        return x ** 2

    data = list(range(16))
    ar = view.map_async(f, data)
    assert isinstance(ar, ipp.AsyncMapResult)
    assert len(ar) == len(data)
    assert ar.get(10) == [f(x) for x in data]


def test_map_consumes_generator(view):
    assert view.map_async(lambda x: x ** 2, iter(range(16))).get(10) == [x ** 2 for x in range(16)]


@pytest.mark.parametrize("lengths", [(10, 4), (4, 10)], ids=["short-last", "short-first"])
def test_map_stops_at_shortest_sequence(view, lengths):
    a, b = (list(range(n)) for n in lengths)
    ar = view.map_async(lambda x, y: x * y, a, b)
    assert len(ar) == min(lengths)
    assert ar.get(10) == [x * y for x, y in zip(a, b)]


def test_map_unordered_yields_in_completion_order(view):
    def slow_f(x):
        import time
        time.sleep(0.05 * x)
        return x ** 2

    data = list(range(8, 0, -1))
    amr = view.map_async(slow_f, data, ordered=False)
    astheycame = list(amr)
    assert sorted(astheycame, reverse=True) == [x ** 2 for x in data]
    assert astheycame != [x ** 2 for x in data], "the slow first items should have come last"


def test_map_ordered_yields_in_input_order(view):
    def slow_f(x):
        import time
        time.sleep(0.05 * x)
        return x ** 2

    data = list(range(8, 0, -1))
    amr = view.map_async(slow_f, data)
    assert list(amr) == [x ** 2 for x in data]
    assert amr.get(10) == [x ** 2 for x in data]


def test_map_chunksize_groups_items_per_task(view):
    ar = view.map_async(lambda x: x + 1, range(10), chunksize=3)
    assert len(ar.msg_ids) == 4
    assert ar.get(10) == list(range(1, 11))


def test_map_over_range(view):
    assert view.map_sync(lambda x: x, range(101)) == list(range(101))


def test_imap_with_return_exceptions(view):
    def fail_on_even(n):
        if n % 2 == 0:
            raise ValueError("even!")
        return n

    for i, r in enumerate(view.imap(fail_on_even, range(5), return_exceptions=True)):
        if i % 2 == 0:
            assert isinstance(r, error.RemoteError)
        else:
            assert r == i


def test_abort_queued_load_balanced_tasks(rc, view):
    busy = [rc[:].apply_async(time.sleep, 0.5), rc[:].apply_async(time.sleep, 0.5)]
    time.sleep(0.2)
    ar2 = view.apply_async(lambda: 2)
    ar3 = view.apply_async(lambda: 3)
    view.abort(ar2)
    view.abort(ar3.msg_ids)
    with pytest.raises(error.TaskAborted):
        ar2.get(10)
    with pytest.raises(error.TaskAborted):
        ar3.get(10)
    for ar in busy:
        ar.get(10)


def test_retries_run_failed_task_on_other_engine(view, tmp_path):
    """A task that fails on the first engine it lands on succeeds on the other one."""
    marker = str(tmp_path / "first-failure")

    def fail_first_time(marker):
        import os
        from mpi4py import MPI
        rank = MPI.COMM_WORLD.Get_rank()
        if not os.path.exists(marker):
            with open(marker, "w") as f:
                f.write(str(rank))
            raise ValueError(f"failing on engine {rank}")
        return rank

    with view.temp_flags(retries=1):
        ar = view.apply_async(fail_first_time, marker)
        ran_on = ar.get(20)
    with open(marker) as f:
        failed_on = int(f.read())
    assert ran_on != failed_on
    assert ar.engine_id == ran_on


def test_without_retries_failure_is_raised(view):
    def fail():
        raise ValueError("Failed!")

    with raises_remote("ValueError"):
        view.apply_sync(fail)
    with view.temp_flags(retries=0):
        with raises_remote("ValueError"):
            view.apply_sync(fail)


def test_retries_exhausting_all_engines_raise_impossible_dependency(rc, view):
    def fail():
        raise ValueError("Failed!")

    with view.temp_flags(retries=len(rc) + 3):
        with pytest.raises(error.ImpossibleDependency):
            view.apply_async(fail).get(20)


def test_timeout_only_applies_before_start(view):
    """A task that started within its timeout is not cut short: it fails with its own error after retries."""
    def fail():
        import time
        time.sleep(0.25)
        raise ValueError("Failed!")

    with view.temp_flags(retries=1, timeout=0.01):
        with raises_remote("ValueError"):
            view.apply_sync(fail)


def test_timeout_with_unmet_after_raises_task_timeout(rc, view):
    slow = view.apply_async(time.sleep, 2)
    with view.temp_flags(after=slow, timeout=0.2):
        ar = view.apply_async(lambda: 1)
    t0 = time.monotonic()
    with pytest.raises(error.TaskTimeout):
        ar.get(10)
    assert time.monotonic() - t0 < 1.5
    slow.get(10)


def test_after_unknown_msg_id_raises_invalid_dependency(view):
    with view.temp_flags(after="12345"):
        with pytest.raises(error.InvalidDependency):
            view.apply_async(lambda: 1).get(10)


def test_follow_tasks_on_different_engines_is_impossible(view):
    # two tasks at once: the balancer gives each engine one
    ar1 = view.apply_async(time.sleep, 0.3)
    ar2 = view.apply_async(time.sleep, 0.3)
    ar1.get(10)
    ar2.get(10)
    assert ar1.engine_id != ar2.engine_id
    with view.temp_flags(follow=[ar1, ar2]):
        with pytest.raises(error.ImpossibleDependency):
            view.apply_async(lambda: 1).get(10)


def test_follow_runs_on_same_engine(view):
    ar = view.apply_async(lambda: 1)
    ar.get(10)
    first_id = ar.engine_id
    view.follow = ar
    ars = [view.apply_async(lambda: 1) for _ in range(6)]
    assert view.wait(ars, timeout=10)
    assert [a.engine_id for a in ars] == [first_id] * 6


def test_after_starts_once_dependency_completed(view):
    ar = view.apply_async(time.sleep, 0.5)
    with view.temp_flags(after=ar):
        ar2 = view.apply_async(lambda: 1)
    ar.wait(10)
    ar2.wait(10)
    assert ar2.get() == 1
    assert ar2.started >= ar.completed


def test_after_failed_dependency_is_impossible_unless_failure_allowed(view):
    bad = view.apply_async(lambda: 1 / 0)
    bad.wait(10)
    with view.temp_flags(after=bad):
        with pytest.raises(error.ImpossibleDependency):
            view.apply_async(lambda: 1).get(10)
    dep = ipp.Dependency(bad, success=False, failure=True)
    with view.temp_flags(after=dep):
        assert view.apply_async(lambda: 2).get(10) == 2


def test_targets_restrict_load_balancing(rc):
    view = rc.load_balanced_view(targets=[rc.ids[-1]])
    ars = [view.apply_async(lambda: 1) for _ in range(6)]
    for ar in ars:
        ar.get(10)
    assert {ar.engine_id for ar in ars} == {rc.ids[-1]}


def test_load_is_balanced_across_engines(view):
    ar = view.map_async(lambda x: (__import__("time").sleep(0.05), x)[1], range(8))
    assert ar.get(20) == list(range(8))
    assert set(ar.engine_id) == {0, 1}


def test_long_tasks_after_a_tiny_burst_go_to_the_least_loaded_engines(rc, view):
    # engine 0 learns a deep queue from tiny tasks, engine 1 a shallow one from a slow task; a following burst of
    # long tasks must still be spread (least loaded first), not all queued on the engine with the most room
    on0 = rc.load_balanced_view(targets=[0])
    for ar in [on0.apply_async(lambda: None) for _ in range(300)]:
        ar.get(20)
    rc.load_balanced_view(targets=[1]).apply_async(lambda: __import__("time").sleep(0.05)).get(20)
    ar = view.map_async(lambda x: (__import__("time").sleep(0.1), x)[1], range(4))
    assert ar.get(20) == list(range(4))
    assert set(ar.engine_id) == {0, 1}


def test_executor_submit_and_map(rc):
    ex = rc.executor()
    fut = ex.submit(lambda x: x * 2, 21)
    assert fut.result(10) == 42
    assert list(ex.map(lambda x: x + 1, range(5))) == [1, 2, 3, 4, 5]


def test_imap_consumes_an_endless_iterator_lazily(view):
    import itertools
    results = view.imap(lambda x: x * x, itertools.count(), max_outstanding=4)
    assert list(itertools.islice(results, 10)) == [x * x for x in range(10)]


def test_imap_unordered_yields_every_result(view):
    out = list(view.imap(lambda x: x + 1, range(20), ordered=False))
    assert sorted(out) == list(range(1, 21))
