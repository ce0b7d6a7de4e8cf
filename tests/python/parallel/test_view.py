"""DirectView behaviour, ported from ipyparallel's tests/test_view.py (plus MPI- and numpy-specific checks)."""
import sys
import threading
import time
from collections import namedtuple

import numpy
import pytest
from numpy.testing import assert_array_equal

import pympibridge.parallel as ipp
from pympibridge.parallel import error
from pympibridge.parallel.asyncresult import AsyncMapResult, AsyncResult

from _remote import drain_abort_marks, raises_remote



# -- push / pull ---------------------------------------------------------------------------------------------------

def test_push_pull_roundtrips_python_values(rc):
    data = dict(a=10, b=1.05, c=list(range(10)), d={"e": (1, 2), "f": "hi"})
    t = rc.ids[-1]
    v = rc[t]
    v.block = True
    v.push({"data": data})
    assert v.pull("data") == data
    rc[:].push({"data": data}, block=True)
    assert rc[:].pull("data", block=True) == len(rc) * [data]
    ar = v.push({"data": data}, block=False)
    assert isinstance(ar, AsyncResult)
    ar.get(10)
    ar = rc[:].pull("data", block=False)
    assert isinstance(ar, AsyncResult)
    assert ar.get(10) == len(rc) * [data]
    rc[:].push(dict(a=10, b=20), block=True)
    assert rc[:].pull(("a", "b"), block=True) == len(rc) * [[10, 20]]


def test_push_pull_function_and_call_it_on_engine(rc):
    def testf(x):
        return 2.0 * x

    v = rc[rc.ids[-1]]
    v.block = True
    v.push({"testf": testf})
    assert v.pull("testf")(1.0) == 2.0
    v.execute("r = testf(10)")
    assert v.pull("r") == 20.0
    rc[:].push({"testf": testf}, block=False).get(10)
    for r in rc[:].pull("testf", block=False).get(10):
        assert r(1.0) == 2.0
    v.execute("def g(x): return x*x")
    f, g = v.pull(("testf", "g"))
    assert (f(10), g(10)) == (20.0, 100)


def test_pushed_interactive_function_sees_engine_globals(rc):
    @ipp.interactive
    def geta():
        return a  # noqa: F821 - defined on the engine

    v = rc[-1]
    v.block = True
    v["f"] = geta
    with raises_remote("NameError"):
        v.execute("b=f()")
    v.execute("a=5")
    v.execute("b=f()")
    assert v["b"] == 5


def test_pushed_function_keeps_default_arguments(rc):
    def echo(a=10):
        return a

    v = rc[-1]
    v.block = True
    v["f"] = echo
    v.execute("b=f()")
    assert v["b"] == 10


def test_function_default_that_is_a_function_travels_with_it(rc):
    def foo():
        return "foo"

    def bar(f=foo):
        return f()

    assert rc[-1].apply_async(bar).get(10) == "foo"


def test_apply_resolves_function_globals_on_engine(rc):
    """A function defined here that uses a name pushed to the engines finds the engine's value (not ours)."""
    def scaled(x):
        return x * factor  # noqa: F821 - pushed below, not defined in this module

    rc[:].push({"factor": 3}, block=True)
    assert rc[:].apply_sync(scaled, 2) == [6, 6]
    rc[0].push({"factor": 5}, block=True)
    assert rc[:].apply_sync(scaled, 2) == [10, 6]


def test_apply_passes_kwarg_named_f(rc):
    def echo_kwargs(**kwargs):
        return kwargs

    assert rc[-1].apply_async(echo_kwargs, f=5).get(timeout=30) == dict(f=5)


# -- numpy ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1000,), (37, 53), (300_000,), (600, 500)],
                         ids=["1d", "2d", "1d-large", "2d-large"])
def test_push_pull_numpy_array_arrives_writable_and_equal(rc, shape):
    a = numpy.arange(numpy.prod(shape), dtype=numpy.float64).reshape(shape)
    v = rc[:]
    v.push({"x": a}, block=True)

    def inspect_x():
        x = globals()["x"]
        writable = x.flags.writeable
        x[(0,) * x.ndim] = -1.0  # writing must work on the engine
        return writable, x.shape, x.dtype.str, float(x.sum())

    expected_sum = float(a.sum()) - a.flat[0] - 1.0
    for writable, eshape, dtype, total in v.apply_sync(ipp.interactive(inspect_x)):
        assert writable
        assert eshape == shape
        assert dtype == a.dtype.str
        assert total == expected_sum
    pulled = v.pull("x", block=True)
    assert len(pulled) == len(rc)
    for b in pulled:
        assert isinstance(b, numpy.ndarray)
        assert b.flags.writeable
        assert b.shape == shape
        c = a.copy()
        c[(0,) * a.ndim] = -1.0
        assert_array_equal(b, c)
        b += 1  # writable here too
    assert a[(0,) * a.ndim] == 0.0  # our array was not modified


def test_apply_echoes_numpy_arrays_of_every_dtype(rc):
    A = numpy.random.random((100, 100))
    view = rc[-1]
    for dt in ["int32", "uint8", "float32", "float64"]:
        B = A.astype(dt)
        C = view.apply_sync(lambda x: x, B)
        assert C.dtype == B.dtype
        assert_array_equal(B, C)


def test_apply_echoes_numpy_object_and_fortran_arrays(rc):
    view = rc[-1]
    A = numpy.array([dict(a=5)])
    assert_array_equal(view.apply_sync(lambda x: x, A), A)
    A = numpy.array([(0, dict(b=10))], dtype=[("i", int), ("o", object)])
    assert_array_equal(view.apply_sync(lambda x: x, A), A)
    F = numpy.asfortranarray(numpy.arange(12.0).reshape(3, 4))
    G = view.apply_sync(lambda x: x, F)
    assert_array_equal(G, F)
    S = numpy.arange(20)[::3]  # not contiguous
    assert_array_equal(view.apply_sync(lambda x: x, S), S)


def test_a_large_array_a_push_replaces_is_freed_off_the_task_path(rc):
    # unmapping it took 12-35 ms the push's reply used to wait for: now the engine's reaper thread frees it
    v = rc[0]
    v.block = True
    v.push({"a": numpy.ones(1 << 18)})  # 2 MiB: arrives as a memory file mapped by the engine

    def watch_old():
        import builtins
        import threading
        import weakref
        builtins._freed_by = []
        builtins._watch = weakref.ref(a, lambda _: builtins._freed_by.append(threading.current_thread().name))
    v.apply_sync(watch_old)
    v.push({"a": numpy.zeros(1 << 18)})

    def freed_by():
        import builtins
        import time
        deadline = time.monotonic() + 10
        while not builtins._freed_by and time.monotonic() < deadline:
            time.sleep(0.01)
        return builtins._freed_by, float(a.sum())
    assert v.apply_sync(freed_by) == (["pympi-engine-reaper"], 0.0)

    # small values and other types are freed where they always were: in the task that replaced them
    v.push({"small": numpy.ones(10)})

    def watch_small():
        import builtins
        import threading
        import weakref
        builtins._small_freed_by = []
        builtins._watch_small = weakref.ref(small, lambda _: builtins._small_freed_by.append(
            threading.current_thread().name))
    v.apply_sync(watch_small)
    v.push({"small": 1})
    assert v.apply_sync(lambda: __import__("builtins")._small_freed_by) == ["MainThread"]


def test_push_pull_record_array(rc):
    R = numpy.array([(1, "hi", 0.0), (2**30, "there", 2.5), (-99999, "world", -12345.6789)],
                    [("n", int), ("s", "|S10"), ("f", float)])
    view = rc[-1]
    view["RR"] = R
    R2 = view["RR"]
    r_dtype, r_shape = view.apply_sync(ipp.interactive(lambda: (RR.dtype, RR.shape)))  # noqa: F821
    assert r_dtype == R.dtype
    assert r_shape == R.shape
    assert R2.dtype == R.dtype
    assert_array_equal(R2, R)


# -- scatter / gather ----------------------------------------------------------------------------------------------

def test_scatter_gather_list_roundtrip(rc):
    view = rc[:]
    seq = list(range(16))
    view.scatter("a", seq, block=True)
    assert view.gather("a", block=True) == seq
    with raises_remote("NameError"):
        view.gather("asdf", block=True)


def test_scatter_gather_numpy_roundtrip(rc):
    view = rc[:]
    a = numpy.arange(64)
    view.scatter("a", a, block=True)
    assert_array_equal(view.gather("a", block=True), a)


def test_scatter_gather_nonblocking(rc):
    view = rc[:]
    data = list(range(16))
    ar = view.scatter("a", data, block=False)
    assert isinstance(ar, AsyncResult)
    ar.get(10)
    assert view.gather("a", block=False).get(10) == data
    a = numpy.arange(64)
    view.scatter("b", a, block=False).get(10)
    assert_array_equal(view.gather("b", block=False).get(10), a)


def test_scatter_gather_with_lazy_all_targets(rc):
    view = rc.direct_view(targets="all")
    x = list(range(64))
    view.scatter("x", x, block=True)
    assert view.gather("x", block=True) == x


def test_scatter_blocks_give_first_engines_one_more(rc):
    view = rc[:]
    view.scatter("part", list(range(5)), dist="b", block=True)
    assert view.pull("part", block=True) == [[0, 1, 2], [3, 4]]
    view.scatter("part", numpy.arange(7), dist="b", block=True)
    parts = view.pull("part", block=True)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6]]


def test_scatter_round_robin_and_gather_restores_order(rc):
    view = rc[:]
    view.scatter("part", list(range(5)), dist="r", block=True)
    assert view.pull("part", block=True) == [[0, 2, 4], [1, 3]]
    assert view.gather("part", dist="r", block=True) == list(range(5))


def test_scatter_flatten_makes_single_items_scalars(rc):
    view = rc[:]
    view.scatter("rank", rc.ids, flatten=True, block=True)
    assert view.pull("rank", block=True) == rc.ids
    view.scatter("rank", rc.ids, block=True)
    assert view.pull("rank", block=True) == [[i] for i in rc.ids]


# -- map -----------------------------------------------------------------------------------------------------------

def test_map_returns_results_in_order(rc):
    def f(x):
        return x ** 2

    data = list(range(16))
    ar = rc[:].map_async(f, data)
    assert isinstance(ar, AsyncMapResult)
    assert len(ar) == len(data)
    assert ar.get(10) == [f(x) for x in data]


def test_map_of_empty_sequence_is_empty(rc):
    assert rc[:].map_sync(lambda x: x, []) == []


def test_map_consumes_iterator(rc):
    arr = range(101)  # prime: uneven blocks
    assert rc[:].map_sync(lambda x: x, iter(arr)) == list(arr)


def test_map_numpy_array(rc):
    arr = numpy.arange(101)
    ar = rc[:].map_async(lambda x: x, arr)
    assert len(ar) == len(arr)
    assert_array_equal(ar.get(10), arr)


def test_map_on_single_engine(rc):
    assert rc[rc.ids[0]].map_sync(lambda x: -1 * x, list(range(5))) == [0, -1, -2, -3, -4]


def test_map_several_sequences_stops_at_shortest(rc):
    assert rc[:].map_sync(lambda x, y: x * y, list(range(10)), list(range(4))) == [0, 1, 4, 9]


# -- execute -------------------------------------------------------------------------------------------------------

def test_execute_sets_variables_on_every_engine(rc):
    view = rc[:]
    ar = view.execute("c=30", block=False)
    assert isinstance(ar, AsyncResult)
    ar = view.execute("d=[0,1,2]", block=False)
    assert rc.wait(ar, 10)
    assert len(ar.get()) == len(rc)
    assert view["c"] == [30] * len(rc)
    assert view["d"] == [[0, 1, 2]] * len(rc)


def test_execute_raises_remote_error(rc):
    ar = rc[-1].execute("1/0")
    with raises_remote("ZeroDivisionError"):
        ar.get(10)


def test_execute_get_returns_execute_reply(rc):
    """ipyparallel: ``execute(..., silent=False).get()`` is an ExecuteReply holding the expression's value."""
    e0 = rc[rc.ids[0]]
    e0.block = True
    ar = e0.execute("5", silent=False)
    assert isinstance(ar, AsyncResult)  # blocking execute still returns the AsyncResult
    er = ar.get()
    assert er is not None
    assert repr(er) == f"<ExecuteReply[{er.execution_count}]: 5>"
    assert er.execute_result["data"]["text/plain"] == "5"


def test_execute_result_metadata_with_silent_false(rc):
    view = rc[:]
    ar = view.execute("5", silent=False, block=True)
    assert [out["data"] for out in ar.execute_result] == [{"text/plain": "5"}] * len(view)


def test_execute_silent_has_no_execute_result(rc):
    view = rc[:]
    ar = view.execute("5", block=True)
    assert ar.execute_result == [None] * len(view)


def test_execute_stdout_is_captured(rc):
    ar = rc[rc.ids[0]].execute("print(5)", silent=False, block=True)
    assert ar.stdout.strip() == "5"


def test_run_file_on_engine(rc, tmp_path):
    path = tmp_path / "script.py"
    path.write_text("def g():\n    return 5\n")  # no trailing newline is needed
    v = rc[-1]
    v.run(str(path), block=True)
    assert v.apply_sync(lambda f: f(), ipp.Reference("g")) == 5


def test_unicode_execute_apply_and_arguments(rc):
    v = rc[-1]
    v.block = True
    v.execute("a='é'")
    assert v["a"] == "é"
    assert v.apply_sync(lambda: "é") == "é"

    def check_unicode(a, check):
        assert not isinstance(a, bytes)
        assert isinstance(check, bytes)
        assert a.encode("utf8") == check
        return True

    for s in ["é", "ßø®∫", "asdf"]:
        assert v.apply_sync(check_unicode, s, s.encode("utf8"))


# -- Reference -----------------------------------------------------------------------------------------------------

def test_reference_passes_engine_variable(rc):
    v = rc[-1]
    v["a"] = 123
    assert v.apply_sync(lambda x: x, ipp.Reference("a")) == 123


def test_reference_inside_containers_and_kwargs(rc):
    view = rc[-1]
    view["a"] = 128
    rA = ipp.Reference("a")
    assert view.apply_async(lambda x: x, [rA]).get(5) == [128]
    assert view.apply_async(lambda x: x, dict(foo=rA)).get(5) == dict(foo=128)
    assert view.apply_async(lambda x=5: x, x=[rA]).get(5) == [128]
    assert view.apply_async(lambda x=5: x, x=dict(foo=rA)).get(5) == dict(foo=128)


def test_reference_as_function_for_apply_and_map(rc):
    v = rc[:]
    v.scatter("n", rc.ids, flatten=True, block=True)
    v.execute("f = lambda x: n*x", block=True)
    assert v.apply_sync(ipp.Reference("f"), 5) == [5 * i for i in rc.ids]
    v.execute("g = lambda x,y: x*y", block=True)
    nlist = list(range(10))
    mlist = nlist[::-1]
    assert v.map_sync(ipp.Reference("g"), mlist, nlist) == [m * n for m, n in zip(mlist, nlist)]


def test_reference_as_map_item(rc):
    view = rc[:]
    view.scatter("rank", rc.ids, flatten=True, block=True)
    rrank = ipp.Reference("rank")
    assert view.map_async(lambda x: x * 2, [rrank] * len(view)).get(5) == [r * 2 for r in rc.ids]


def test_reference_evaluates_expression_on_engine(rc):
    """ipyparallel evaluates a Reference's name on the engine, so ``Reference('g[0]')`` is ``g[0]`` there."""
    v = rc[rc.ids[0]]
    v["g"] = list(range(5))
    assert v.apply_sync(lambda x: x, ipp.Reference("g[0]")) == 0


def test_reference_to_undefined_name_raises_name_error(rc):
    with raises_remote("NameError"):
        rc[rc.ids[0]].apply_sync(lambda x: x, ipp.Reference("elvis_has_left"))


def test_nested_getitem_setitem_with_dotted_name(rc):
    view = rc[-1]
    view.execute("class A: pass\na = A()\na.b = 128", block=True)
    ra = ipp.Reference("a")
    assert view.apply_sync(lambda x: x.b, ra) == 128
    assert view["a.b"] == 128
    view["a.b"] = 0
    assert view.apply_sync(lambda x: x.b, ra) == 0
    assert view["a.b"] == 0


def test_namedtuple_as_argument_and_result(rc, monkeypatch):
    # as in a user's script: the class is defined in __main__ here and on the engines
    point = namedtuple("point", "x y", module="__main__")
    monkeypatch.setattr(sys.modules["__main__"], "point", point, raising=False)
    rc[-1].execute("from collections import namedtuple\npoint = namedtuple('point', 'x y')", block=True)

    def namedtuplify(x, y):
        return point(x, y)

    def echoxy(p):
        return p.y, p.x

    view = rc[-1]
    p = view.apply_sync(namedtuplify, 1, 2)
    assert (p.x, p.y) == (1, 2)
    assert view.apply_sync(echoxy, point(1, 2)) == (2, 1)


# -- MPI -----------------------------------------------------------------------------------------------------------

def test_engines_are_the_mpi_world_and_engine_id_is_rank(rc):
    def world():
        from mpi4py import MPI
        return MPI.COMM_WORLD.Get_size(), MPI.COMM_WORLD.Get_rank()

    ar = rc[:].apply_async(world)
    assert ar.get(30) == [(2, 0), (2, 1)]
    assert ar.get_dict() == {0: (2, 0), 1: (2, 1)}
    for eid in rc.ids:
        assert rc[eid].apply_sync(world) == (2, eid)


def test_allreduce_across_engines_with_execute(rc):
    code = "\n".join([
        "from mpi4py import MPI",
        "import numpy as np",
        "send = np.array([MPI.COMM_WORLD.Get_rank() + 1.0, 10.0])",
        "recv = np.zeros(2)",
        "MPI.COMM_WORLD.Allreduce(send, recv, op=MPI.SUM)",
        "total = recv.tolist()",
    ])
    rc[:].execute(code, block=True, silent=True)
    assert rc[:].pull("total", block=True) == [[3.0, 20.0], [3.0, 20.0]]


# -- abort / flags / imports / len ---------------------------------------------------------------------------------

def test_abort_queued_tasks_by_result_and_by_msg_ids(rc):
    view = rc[-1]
    ar = view.execute("import time; time.sleep(1)", block=False)
    ar2 = view.apply_async(lambda: 2)
    view.abort(ar2)
    ar3 = view.apply_async(lambda: 3)
    view.abort(ar3.msg_ids)
    with pytest.raises(error.TaskAborted):
        ar2.get(10)
    with pytest.raises(error.TaskAborted):
        ar3.get(10)
    ar.get(10)


def test_abort_all_outstanding_tasks(rc, cluster):
    view = rc[-1]
    ars = [view.apply_async(time.sleep, 0.25) for _ in range(10)]
    try:
        view.abort()
        assert view.wait(timeout=10)
        for ar in ars[5:]:
            with pytest.raises(error.TaskAborted):
                ar.get(0)
    finally:
        drain_abort_marks(cluster, max(int(m.rsplit("_", 1)[1]) for m in rc.history))


def test_temp_flags_restores_flags(rc):
    view = rc[-1]
    view.block = True
    with view.temp_flags(block=False):
        assert not view.block
    assert view.block


def test_set_flags_rejects_unknown_flag(rc):
    with pytest.raises(KeyError):
        rc[:].set_flags(retries=1)


def test_sync_imports_prints_and_imports_on_engines(rc, capsys):
    view = rc[-1]
    with view.sync_imports():
        import json  # noqa: F401
    assert "importing json on engine(s)" in capsys.readouterr().out

    @ipp.interactive
    def find_json():
        return "json" in globals()

    assert view.apply_sync(find_json)


def test_sync_imports_from_import_prints_names(rc, capsys):
    view = rc[-1]
    with view.sync_imports():
        from os import path  # noqa: F401
    assert "importing path from os on engine(s)" in capsys.readouterr().out
    assert view.apply_sync(ipp.interactive(lambda: globals()["path"].__name__)) in ("posixpath", "ntpath")


def test_sync_imports_quiet_prints_nothing(rc, capsys):
    view = rc[-1]
    with view.sync_imports(quiet=True):
        import base64  # noqa: F401
    assert capsys.readouterr().out == ""
    assert view.apply_sync(ipp.interactive(lambda: "base64" in globals()))


def test_len_of_views(rc):
    assert len(rc[rc.ids[0]]) == 1
    assert len(rc[:]) == len(rc.ids)
    assert len(rc.direct_view("all")) == len(rc.ids)
    assert len(rc[:1]) == 1
    assert len(rc[:2]) == 2


def test_broadcast_view_takes_block_kwarg(rc):
    view = rc.broadcast_view(block=True)
    assert view.block is True
    assert view.apply(lambda: 5) == [5] * len(rc)


# -- cloudpickle ---------------------------------------------------------------------------------------------------

def test_use_cloudpickle_prefers_client_values_and_use_pickle_restores(rc):
    view = rc[:]
    view["_a"] = "engine"
    main = sys.modules["__main__"]

    @ipp.interactive
    def get_a():
        return _a  # noqa: F821

    assert view.apply_sync(get_a) == ["engine"] * len(view)
    try:
        view.use_cloudpickle().get(10)
        main._a = "client"
        assert view.apply_sync(get_a) == ["client"] * len(view)
        view.execute("del _a", block=True)
        assert view.apply_sync(get_a) == ["client"] * len(view)
    finally:
        view.use_pickle().get(10)
        if hasattr(main, "_a"):
            del main._a
    with raises_remote("NameError"):
        view.apply_sync(get_a)


def test_push_pull_work_under_cloudpickle(rc):
    view = rc[:]
    try:
        view.use_cloudpickle().get(10)
        view.push({"key": "pushed"}, block=True)
        assert view.pull("key").get(timeout=10) == ["pushed"] * len(view)
    finally:
        view.use_pickle().get(10)
    assert view.pull("key").get(timeout=10) == ["pushed"] * len(view)


# -- bad input -----------------------------------------------------------------------------------------------------

def test_unknown_target_raises_index_error(rc):
    with pytest.raises(IndexError):
        rc[7]
    with pytest.raises(IndexError):
        rc[[0, 7]]
    with pytest.raises(IndexError):
        rc[:].execute("a=1", targets=[9], block=True)
    with pytest.raises(IndexError):
        rc.load_balanced_view(targets=[9])


def test_push_of_non_dict_raises_type_error(rc):
    with pytest.raises(TypeError):
        rc[:].push([("a", 1)], block=True)
    with pytest.raises(TypeError):
        rc[:].push("a", block=True)


def test_unpicklable_argument_raises_type_error_mentioning_cloudpickle(rc):
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cloudpickle"):
        rc[:].apply_sync(lambda x: x, lock)


def test_unpicklable_function_raises_type_error_mentioning_cloudpickle(rc):
    lock = threading.Lock()

    def uses_lock():
        return lock.locked()

    with pytest.raises(TypeError, match="cloudpickle"):
        rc[:].apply_sync(uses_lock)
    with pytest.raises(TypeError, match="cloudpickle"):
        rc.load_balanced_view().apply_sync(uses_lock)


def test_execute_of_non_string_raises_type_error(rc):
    with pytest.raises(TypeError):
        rc[:].execute(lambda: 1)


def test_a_function_redefined_on_the_engine_is_the_one_that_runs(rc):
    # the engine keeps rebuilt functions by their bytes; one found by name must be looked up again every time
    from pympibridge.parallel import _protocol as P, _serialize
    e = rc[rc.ids[0]]
    e.execute("def answer(): return 1", block=True)
    # what a C# client sends for "the engine's function named answer": a pickle GLOBAL __main__.answer
    ref = b"\x80\x04\x95\x16\x00\x00\x00\x00\x00\x00\x00\x8c\x08__main__\x94\x8c\x06answer\x94\x93\x94."
    payload = [ref] + _serialize.dumps_arguments((), {})

    def call():
        ar = rc._submit_direct(P.APPLY, payload, [rc.ids[0]], "answer", single=True)
        return ar.get(10)
    assert call() == 1
    e.execute("def answer(): return 2", block=True)
    assert call() == 2
