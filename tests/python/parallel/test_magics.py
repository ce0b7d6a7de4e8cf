"""The parallel magics (%px, %%px, %pxresult, %autopx, %pxconfig) in a real IPython shell, on the shared 2-engine
cluster. Ported from ipyparallel's tests/test_magics.py where the behaviour applies (our engines publish no rich
display outputs and run plain Python, so the displaypub and %matplotlib tests have no counterpart).

Outputs are compared line by line with what ipyparallel prints: ``Out[<engine>:<count>]: value`` (the count is the
engine's own execution counter, read back from the AsyncResult), ``[stdout:<engine>] text``, ``[stderr:...]``.
"""
import os
import re

import pytest

import IPython  # noqa: F401  (python3-ipython, installed by scripts/install-deps.sh)

from IPython.core.error import UsageError  # noqa: E402
from IPython.utils.io import capture_output  # noqa: E402

import pympibridge.parallel as ipp  # noqa: E402
from pympibridge.parallel import magics  # noqa: E402


@pytest.fixture(scope="module")
def shell():
    from IPython.testing.globalipapp import get_ipython
    return get_ipython()


@pytest.fixture
def ip(shell, capsys):
    """The test IPython shell, output captured from here on; %autopx is switched off afterwards."""
    capsys.readouterr()
    yield shell
    for m in list(magics._active.values()):
        if m._autopx:
            m._disable_autopx(quiet=True)


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def _outs(ar, value):
    """The Out lines ipyparallel prints for ``ar`` when every engine's expression evaluated to ``value``."""
    replies = ar.execute_result
    if not isinstance(replies, list):
        replies = [replies]
    return [f"Out[{r.engine_id}:{r.execution_count}]: {value}" for r in replies]


def _last(suffix=""):
    return magics._active[suffix].last_result


# ---- %px ---------------------------------------------------------------------------------------------------------

def test_px_expression_prints_out_per_engine(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    assert ip.run_line_magic("px", "a = 5") is None
    assert v["a"] == [5, 5]
    assert capsys.readouterr().out == ""

    assert ip.run_line_magic("px", "a") is None  # blocking: shows the results, returns nothing
    ar = _last()
    counts = [r.execution_count for r in ar.execute_result]
    assert _lines(capsys.readouterr().out) == [f"Out[0:{counts[0]}]: 5", f"Out[1:{counts[1]}]: 5"]

    # the execution count is each engine's own, advancing with every execute
    ip.run_line_magic("px", "sum(range(101))")
    assert _lines(capsys.readouterr().out) == [f"Out[0:{counts[0] + 1}]: 5050", f"Out[1:{counts[1] + 1}]: 5050"]


def test_px_blocking_stdout(ip, rc, capsys):
    """ported from test_px_blocking: values set by %px are there, print shows as [stdout:N]"""
    v = rc[-1:]
    v.activate()
    v.block = True
    ip.run_line_magic("px", "a=5")
    assert v["a"] == [5]
    ip.run_line_magic("px", "a=10")
    assert v["a"] == [10]
    capsys.readouterr()
    ip.run_line_magic("px", "import sys,time;print(a);sys.stdout.flush();time.sleep(0.2)")
    out = capsys.readouterr().out
    assert out == "[stdout:1] 10\n"


def test_px_multiline_stdout_starts_below_prefix(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    ip.run_cell_magic("px", "", "print('x')\nprint('y')")
    assert capsys.readouterr().out == "[stdout:0] \nx\ny\n[stdout:1] \nx\ny\n"


def test_px_var_expand(ip, rc):
    """%px does not expand {x} locally: the f-string is evaluated on the engine"""
    v = rc[-1:]
    v.activate()
    v.block = True
    ip.user_ns["x"] = "client"
    v["x"] = "engine"
    ip.run_line_magic("px", 'y=f"{x}"')
    assert v["y"] == ["engine"]


def test_cell_px_var_expand_and_out(ip, rc):
    """%%px's options line is expanded (-o {out_name}); the cell body is not"""
    v = rc[-1:]
    v.activate()
    v.block = True
    ip.user_ns["x"] = "client"
    v["x"] = "engine"
    ip.user_ns["out_name"] = "theoutput"
    ip.run_cell_magic("px", "-o {out_name}", 'y=f"{x}"')
    assert v["y"] == ["engine"]
    assert isinstance(ip.user_ns["theoutput"], ipp.AsyncResult)


def test_px_nonblocking(ip, rc, capsys):
    """ported from test_px_nonblocking"""
    v = rc[-1:]
    v.activate()
    v.block = False
    ip.run_line_magic("px", "a=5")
    assert v.pull("a", block=True) == [5]
    ip.run_line_magic("px", "a=10")
    assert v.pull("a", block=True) == [10]
    ip.run_line_magic("pxconfig", "--verbose")
    capsys.readouterr()
    ar = ip.run_line_magic("px", "print (a)")
    assert isinstance(ar, ipp.AsyncResult)
    ar.wait(30)
    out = capsys.readouterr().out
    assert out == "Async parallel execution on engine(s): [1]\n"
    assert ar.stdout == ["10\n"]

    ar = ip.run_line_magic("px", "1/0")
    with pytest.raises(ipp.RemoteError) as e:
        ar.get(30)
    assert "ZeroDivisionError" in str(e.value)


# ---- %%px options ------------------------------------------------------------------------------------------------

def test_cellpx_targets_slice_one_stdout_line(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    pid0 = rc[0].apply_sync(os.getpid)
    ip.run_cell_magic("px", "--targets :-1", "import os\nprint(os.getpid())")
    assert capsys.readouterr().out == f"[stdout:0] {pid0}\n"
    assert v.targets == rc.ids  # --targets is for this cell only


@pytest.mark.parametrize("spec, expected", [(":-1", [0]), ("::2", [0]), ("1::2", [1]), (":", [0, 1]),
                                            ("0", [0]), ("[1,0]", [1, 0]), ("all", [0, 1])])
def test_cellpx_target_specs(ip, rc, capsys, spec, expected):
    v = rc[:]
    v.block = True
    v.activate()
    ip.run_cell_magic("px", f"--targets {spec}", "7")
    assert [r.engine_id for r in (_last().execute_result if isinstance(_last().execute_result, list)
                                  else [_last().execute_result])] == expected
    assert _lines(capsys.readouterr().out) == _outs(_last(), 7)


def test_cellpx_targets_does_not_change_defaults(ip, rc, capsys):
    """ported from test_cellpx_targets"""
    view = rc.activate(rc.ids)
    assert view.targets == rc.ids
    ip.run_line_magic("pxconfig", "--verbose")
    for cell in ("pass", "1/0"):
        capsys.readouterr()
        try:
            ip.run_cell_magic("px", "--targets all", cell)
        except ipp.RemoteError:
            pass
        assert "engine(s): all" in capsys.readouterr().out
        assert view.targets == rc.ids


def test_cellpx_block_does_not_change_default(ip, rc, capsys):
    """ported from test_cellpx_block"""
    view = rc.activate(rc.ids)
    view.block = False
    ip.run_line_magic("pxconfig", "--verbose")
    for cell in ("pass", "1/0"):
        capsys.readouterr()
        try:
            ip.run_cell_magic("px", "--block", cell)
        except ipp.RemoteError:
            pass
        assert "Async" not in capsys.readouterr().out
        assert view.block is False


def test_cellpx_block_args(ip, rc, capsys):
    """ported from test_cellpx_block_args: %%px --[no]block"""
    v = rc[-1:]
    v.activate()
    for block in (True, False):
        v.block = block
        ip.run_line_magic("pxconfig", "--verbose")
        capsys.readouterr()
        r = ip.run_cell_magic("px", "", "1")
        out = capsys.readouterr().out
        if block:
            assert r is None
            assert out.startswith("Parallel execution on engine(s): [1]\n"), out
        else:
            assert isinstance(r, ipp.AsyncResult)
            assert out.startswith("Async parallel execution on engine(s): [1]\n"), out
            r.wait(30)

        assert ip.run_cell_magic("px", "--block", "1") is None
        assert capsys.readouterr().out.startswith("Parallel")

        r = ip.run_cell_magic("px", "--noblock", "1")
        assert isinstance(r, ipp.AsyncResult)
        assert capsys.readouterr().out.startswith("Async")
        r.wait(30)


GENERATE = "import sys\nprint('stdout')\nprint('stderr', file=sys.stderr)\n'result'"


def test_cellpx_groupby_type(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    for option in ("--group-outputs=type", "", "--group-outputs=order", "-r"):
        ip.run_cell_magic("px", option, GENERATE)
        captured = capsys.readouterr()
        assert _lines(captured.out) == ["[stdout:0] stdout", "[stdout:1] stdout"] + _outs(_last(), "'result'")
        assert _lines(captured.err) == ["[stderr:0] stderr", "[stderr:1] stderr"]


def test_cellpx_groupby_engine(ip, rc):
    v = rc[:]
    v.block = True
    v.activate()
    for option in ("--group-outputs=engine", "-e"):
        # stdout and stderr into one stream, to see the order
        with capture_output(display=False) as io:
            import sys
            saved = sys.stderr
            sys.stderr = sys.stdout
            try:
                ip.run_cell_magic("px", option, GENERATE)
            finally:
                sys.stderr = saved
        outs = _outs(_last(), "'result'")
        assert _lines(io.stdout) == ["[stdout:0] stdout", "[stderr:0] stderr", "[output:0]", outs[0],
                                     "[stdout:1] stdout", "[stderr:1] stderr", "[output:1]", outs[1]]


def test_cellpx_local(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    ip.user_ns.pop("zlocal", None)
    r = ip.run_cell_magic("px", "--local", "zlocal = 6 * 7")
    assert r is None
    assert ip.user_ns["zlocal"] == 42
    assert v["zlocal"] == [42, 42]
    r = ip.run_cell_magic("px", "--local --noblock", "zlocal += 1")
    assert isinstance(r, ipp.AsyncResult)
    r.get(30)
    assert ip.user_ns["zlocal"] == 43
    assert v["zlocal"] == [43, 43]


def test_cellpx_stream(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    ip.run_cell_magic("px", "--stream", GENERATE)
    captured = capsys.readouterr()
    # printed as each engine's reply arrives: per engine in order, engines in arrival order
    assert sorted(_lines(captured.out)) == sorted(["[stdout:0] stdout", "[stdout:1] stdout"]
                                                   + _outs(_last(), "'result'"))
    assert sorted(_lines(captured.err)) == ["[stderr:0] stderr", "[stderr:1] stderr"]


def test_cellpx_error_stream(ip, rc, capsys):
    """ported from test_cellpx_error_stream: tracebacks printed as they arrive, then only 'N errors'"""
    v = rc[:]
    v.block = True
    v.activate()
    v.scatter("rank", range(len(v)), flatten=True, block=True)
    with pytest.raises(magics.AlreadyDisplayedError) as exc_info:
        ip.run_cell_magic("px", "--stream", "raise RuntimeError(f'oops! {rank}')")
    err = capsys.readouterr().err
    assert err.count("RuntimeError: oops!") == len(v)
    assert "\n".join(exc_info.value.render_traceback()) == f"{len(v)} errors"
    assert isinstance(exc_info.value, ipp.CompositeError)


def test_cellpx_error_no_stream(ip, rc, capsys):
    """ported from test_cellpx_error_no_stream"""
    v = rc[:]
    v.block = True
    v.activate()
    v.scatter("rank", range(len(v)), flatten=True, block=True)
    with pytest.raises(ipp.CompositeError) as exc_info:
        ip.run_cell_magic("px", "--no-stream", "print('before', rank)\nraise RuntimeError(f'oops! {rank}')")
    captured = capsys.readouterr()
    assert captured.err.strip() == ""
    # the engines' stdout is shown before the error propagates
    assert _lines(captured.out) == ["[stdout:0] before 0", "[stdout:1] before 1"]
    printed_tb = "\n".join(exc_info.value.render_traceback())
    assert printed_tb.count("RuntimeError: oops!") == len(v)
    assert "[0:execute]" in printed_tb and "[1:execute]" in printed_tb


# ---- remote exceptions as IPython shows them ---------------------------------------------------------------------

def test_remote_exception_rendered_by_ipython(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    result = ip.run_cell("%px 1/0")
    assert isinstance(result.error_in_exec, ipp.CompositeError)
    lines = capsys.readouterr().out.splitlines()
    # IPython shows the engines' tracebacks (_render_traceback_), not the local one
    assert lines[0] == "[0:execute]:"
    assert "[1:execute]:" in lines
    assert lines.count("ZeroDivisionError: division by zero") == 2
    assert not any("magics.py" in line for line in lines)


def test_remote_exception_single_engine(ip, rc, capsys):
    v = rc[1]
    v.block = True
    v.activate()
    with pytest.raises(ipp.RemoteError) as e:
        ip.run_line_magic("px", "1/0")
    assert not isinstance(e.value, ipp.CompositeError)
    assert e.value.ename == "ZeroDivisionError"
    assert e.value.engine_info["engine_id"] == 1
    result = ip.run_cell("%px 1/0")
    lines = capsys.readouterr().out.splitlines()
    assert isinstance(result.error_in_exec, ipp.RemoteError)
    assert lines[0] == "[1:execute]"
    assert lines[-1] == "ZeroDivisionError: division by zero"


# ---- %pxresult -----------------------------------------------------------------------------------------------------

def test_noblock_then_pxresult(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    pids = v.apply_sync(os.getpid)
    ar = ip.run_cell_magic("px", "--noblock", "import os\nimport time\ntime.sleep(0.3)\nos.getpid()")
    assert isinstance(ar, ipp.AsyncResult)
    assert capsys.readouterr().out == ""  # nothing printed until asked
    ip.run_line_magic("pxresult", "")
    assert _lines(capsys.readouterr().out) == [
        f"Out[{r.engine_id}:{r.execution_count}]: {pid}" for r, pid in zip(ar.execute_result, pids)]
    # shown through IPython, the noblock cell's value is the AsyncResult
    result = ip.run_cell("%%px --noblock\n1")
    assert isinstance(result.result, ipp.AsyncResult)
    result.result.wait(30)


def test_result(ip, rc, capsys):
    """ported from test_result"""
    v = rc[-1]
    v.activate()
    data = dict(a=111, b=222)
    v.push(data, block=True)
    for name in ("a", "b"):
        ip.run_line_magic("px", name)
        capsys.readouterr()
        ip.run_line_magic("pxresult", "")
        assert _lines(capsys.readouterr().out) == _outs(_last(), data[name])
    ip.run_line_magic("pxresult", "-o saved")
    assert ip.user_ns["saved"] is _last()


def test_pxresult_without_result(ip, rc):
    v = rc[:]
    v.activate("_fresh")
    with pytest.raises(UsageError, match="has not yet been used"):
        ip.run_line_magic("pxresult_fresh", "")


def test_pxresult_stdout_and_error(ip, rc, capsys):
    v = rc[:]
    v.block = False
    v.activate()
    ar = ip.run_line_magic("px", "print('hi')")
    ar.wait(30)
    ip.run_line_magic("pxresult", "")
    assert _lines(capsys.readouterr().out) == ["[stdout:0] hi", "[stdout:1] hi"]
    ar = ip.run_line_magic("px", "1/0")
    ar.wait(30)
    with pytest.raises(ipp.CompositeError):
        ip.run_line_magic("pxresult", "")


# ---- %pxconfig -----------------------------------------------------------------------------------------------------

def test_pxconfig_targets_1(ip, rc, capsys):
    v = rc[:]
    v.block = True
    v.activate()
    ip.run_line_magic("pxconfig", "--targets 1")
    assert v.targets == 1
    ip.run_line_magic("px", "sum(range(101))")
    ar = _last()
    assert _lines(capsys.readouterr().out) == [f"Out[1:{ar.execute_result.execution_count}]: 5050"]
    # one engine: its stdout is shown without the [stdout:N] prefix, as ipyparallel does
    ip.run_line_magic("px", "print('only one')")
    assert capsys.readouterr().out == "only one\n"


def test_pxconfig(ip, rc):
    """ported from test_pxconfig"""
    v = rc.activate(rc.ids[-1], "_tst")
    assert v.targets == rc.ids[-1]
    ip.run_line_magic("pxconfig_tst", "-t :")
    assert v.targets == rc.ids
    ip.run_line_magic("pxconfig_tst", "-t ::2")
    assert v.targets == rc.ids[::2]
    ip.run_line_magic("pxconfig_tst", "-t 1::2")
    assert v.targets == rc.ids[1::2]
    ip.run_line_magic("pxconfig_tst", "-t 1")
    assert v.targets == 1
    ip.run_line_magic("pxconfig_tst", "-t all")
    assert v.targets == "all"
    ip.run_line_magic("pxconfig_tst", "--block")
    assert v.block is True
    ip.run_line_magic("pxconfig_tst", "--noblock")
    assert v.block is False
    with pytest.raises(UsageError):
        ip.run_line_magic("pxconfig_tst", "-t nonsense")


def test_activate_resolves_targets_as_ipyparallel(ip, rc):
    assert rc.activate(-1, "_neg").targets == rc.ids[-1]
    assert rc[-1:].targets == rc.ids[-1:]


def test_pxconfig_verbose(ip, rc, capsys):
    v = rc.direct_view("all")
    v.block = True
    v.activate()
    ip.run_line_magic("pxconfig", "--verbose")
    ip.run_line_magic("px", "x = 1")
    assert capsys.readouterr().out == "Parallel execution on engine(s): all\n"
    v2 = rc[:]
    v2.block = True
    v2.activate()  # ipyparallel shows a slice view's engines as their ids
    ip.run_line_magic("pxconfig", "--verbose")
    ip.run_line_magic("px", "x = 1")
    assert capsys.readouterr().out == "Parallel execution on engine(s): [0, 1]\n"
    ip.run_line_magic("pxconfig", "--no-verbose")
    ip.run_line_magic("px", "x = 1")
    assert capsys.readouterr().out == ""


# ---- %autopx -------------------------------------------------------------------------------------------------------

def test_autopx_blocking(ip, rc, capsys):
    """ported from test_autopx_blocking"""
    v = rc[-1]
    v.activate()
    v.block = True
    ip.run_line_magic("autopx", "")
    ip.run_cell("\n".join(("a=5", "b=12345", "c=0")))
    ip.run_cell("b*=2")
    ip.run_cell("print (b)")
    ip.run_cell("b")
    ip.run_cell("for i in range(2):\n    b += 0")
    ip.run_cell("b/c")
    ip.run_line_magic("autopx", "")
    output = capsys.readouterr().out
    assert output.startswith("%autopx enabled\n"), output
    assert output.rstrip().endswith("%autopx disabled"), output
    assert "\n24690\n" in output  # print on one engine: no prefix
    assert re.search(r"\nOut\[1:\d+\]: 24690\n", output)
    assert "ZeroDivisionError" in output
    assert "b" not in ip.user_ns or ip.user_ns["b"] != 24690  # nothing ran locally
    assert v["a"] == 5
    assert v["b"] == 24690
    # disabled: cells run locally again
    ip.run_cell("autopx_local = 1")
    assert ip.user_ns["autopx_local"] == 1


def test_autopx_nonblocking(ip, rc, capsys):
    """ported from test_autopx_nonblocking"""
    v = rc[-1]
    v.activate()
    v.block = False
    ip.run_line_magic("autopx", "")
    ip.run_cell("\n".join(("a=5", "b=10", "c=0")))
    ip.run_cell("print (b)")
    ip.run_cell("import time; time.sleep(0.1)")
    ip.run_cell("b/c")
    ar = _last()
    ip.run_line_magic("autopx", "")
    output = capsys.readouterr().out.rstrip()
    assert output == "%autopx enabled\n%autopx disabled"
    with pytest.raises(ipp.RemoteError) as e:
        ar.get(30)
    assert e.value.ename == "ZeroDivisionError"
    assert v["a"] == 5
    assert v["b"] == 10


def test_autopx_leaves_incomplete_input_alone(ip, rc):
    """IPython's is-complete check (terminal continuation prompts, kernels) ignores the autopx rewrite"""
    v = rc[:]
    v.block = True
    v.activate()
    ip.run_line_magic("autopx", "")
    try:
        assert ip.input_transformer_manager.check_complete("for i in range(3):\n")[0] == "incomplete"
    finally:
        ip.run_line_magic("autopx", "")


# ---- suffixes and registration -------------------------------------------------------------------------------------

def test_suffix_activation(ip, rc, capsys):
    v_all = rc[:]
    v_all.block = True
    v_all.activate()
    v1 = rc[1]
    v1.block = True
    v1.activate("_a")
    line_magics = ip.magics_manager.magics["line"]
    for name in ("px_a", "pxresult_a", "autopx_a", "pxconfig_a"):
        assert name in line_magics
    assert "px_a" in ip.magics_manager.magics["cell"]
    assert "result_a" not in line_magics

    ip.run_line_magic("px", "s = 'all'")
    ip.run_line_magic("px_a", "s = 'one'")
    assert v_all["s"] == ["all", "one"]
    capsys.readouterr()

    ip.run_cell_magic("px_a", "", "print(s)\ns")
    assert _lines(capsys.readouterr().out) == ["one", f"Out[1:{_last('_a').execute_result.execution_count}]: 'one'"]
    ip.run_line_magic("pxconfig_a", "--noblock")
    ar = ip.run_line_magic("px_a", "s * 2")
    assert isinstance(ar, ipp.AsyncResult)
    ip.run_line_magic("pxresult_a", "")
    assert _lines(capsys.readouterr().out) == [f"Out[1:{ar.execute_result.execution_count}]: 'oneone'"]
    assert v_all.block is True  # the other view's config is its own

    ip.run_line_magic("autopx_a", "")
    ip.run_cell("s = 'auto'")
    _last("_a").wait(30)
    ip.run_line_magic("autopx_a", "")
    assert capsys.readouterr().out == "%autopx enabled\n%autopx disabled\n"
    assert v_all["s"] == ["all", "auto"]


def test_client_creation_activates_px(ip, cluster):
    """Inside IPython the first Client binds %px to a blocking view of all its engines; a later one does not
    take over while the first is open, but does once it is closed."""
    first = cluster.connect_client_sync()
    try:
        first.wait_for_engines(cluster.n, timeout=60)
        assert "px" in ip.magics_manager.magics["line"]
        m = magics._active[""]
        if m.view.client is not first:  # %px was bound to an earlier (closed) client: rebound now
            raise AssertionError("a new client did not take over %px from a closed one")
        assert m.view.targets == "all" and m.view.block is True
        second = cluster.connect_client_sync()
        try:
            assert magics._active[""].view.client is first
        finally:
            second.close()
    finally:
        first.close()
    third = cluster.connect_client_sync()
    try:
        assert magics._active[""].view.client is third
    finally:
        third.close()


def test_cellpx_keyboard_interrupt(ip, rc, capsys):
    """Ctrl-C while %%px blocks: says so on stderr, signals the engines (their running code is interrupted), gives
    the prompt back (KeyboardInterrupt), outputs not shown."""
    import signal
    v = rc[:]
    v.block = True
    v.activate()

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            ip.run_cell_magic("px", "", "print('Entering...'); import time; time.sleep(2); print('Exiting...')")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    assert "Received Keyboard Interrupt." in captured.err
    assert "Exiting..." not in captured.out
    assert rc.wait(timeout=30)
