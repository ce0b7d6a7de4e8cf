"""Dependencies and the @require/@depend decorators, ported from ipyparallel's tests/test_dependency.py."""
import pytest

import pympibridge.parallel as ipp
from pympibridge.parallel import error

from _remote import raises_remote


@ipp.interactive
def func(x):
    return x * x


mixed = list(map(str, range(10)))
completed = list(map(str, range(0, 10, 2)))
succeeded = set(map(str, range(0, 25, 2)))
failed = set(map(str, range(1, 25, 2)))


def met(dep):
    return dep.check(succeeded, failed)


def unreachable(dep):
    return dep.unreachable(succeeded, failed)


def test_success_only_dependency():
    dep = ipp.Dependency(mixed, success=True, failure=False)
    assert not met(dep) and unreachable(dep)
    dep.all = False
    assert met(dep) and not unreachable(dep)
    dep = ipp.Dependency(completed, success=True, failure=False)
    assert met(dep) and not unreachable(dep)
    dep.all = False
    assert met(dep) and not unreachable(dep)


def test_failure_only_dependency():
    dep = ipp.Dependency(mixed, success=False, failure=True)
    assert not met(dep) and unreachable(dep)
    dep.all = False
    assert met(dep) and not unreachable(dep)
    dep = ipp.Dependency(completed, success=False, failure=True)
    assert not met(dep) and unreachable(dep)
    dep.all = False
    assert not met(dep) and unreachable(dep)


def test_pending_dependency_is_neither_met_nor_unreachable():
    dep = ipp.Dependency(["100", "102"])
    assert not met(dep) and not unreachable(dep)


def test_dependency_rejects_neither_success_nor_failure():
    with pytest.raises(ValueError):
        ipp.Dependency(mixed, success=False, failure=False)


def test_dependency_from_async_results_holds_their_msg_ids(rc):
    ar = rc[:].apply_async(lambda: 1)
    dep = ipp.Dependency(ar)
    assert set(dep) == set(ar.msg_ids)
    ar.get(10)


def test_require_imports_module_on_engine(rc):
    @ipp.require("base64")
    @ipp.interactive
    def encode(arg):
        return base64.b64encode(arg)  # noqa: F821

    assert rc.load_balanced_view().apply_sync(encode, b"foo") == b"Zm9v"
    assert rc[:].apply_sync(encode, b"foo") == [b"Zm9v"] * len(rc)


def test_require_function_makes_it_available(rc):
    @ipp.interactive
    def bar(a):
        return func(a)

    @ipp.require(func)
    @ipp.interactive
    def bar2(a):
        return func(a)

    view = rc.load_balanced_view()
    with raises_remote("NameError"):
        view.apply_sync(bar, 5)
    assert view.apply_async(bar2, 5).get(10) == func(5)


def test_require_object_by_keyword(rc):
    @ipp.require(foo=func)
    @ipp.interactive
    def bar(a):
        return foo(a)  # noqa: F821

    assert rc.load_balanced_view().apply_async(bar, 5).get(10) == func(5)


def test_depend_runs_only_where_condition_holds(rc):
    def on_rank(r):
        from mpi4py import MPI
        return MPI.COMM_WORLD.Get_rank() == r

    @ipp.depend(on_rank, 1)
    def where():
        from mpi4py import MPI
        return MPI.COMM_WORLD.Get_rank()

    view = rc.load_balanced_view()
    view.retries = 1
    ars = [view.apply_async(where) for _ in range(4)]
    assert [ar.get(10) for ar in ars] == [1] * 4
    # on an engine where it does not hold, the task is not run
    with raises_remote("UnmetDependency"):
        rc[0].apply_sync(where)
