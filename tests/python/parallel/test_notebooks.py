"""The example notebooks run top to bottom in a real Jupyter kernel (Debian's python3-ipykernel, kernel 'python3')
and show what they should: seed 002's %px / %%px / %pxresult outputs and its parallel map."""
import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest

import nbclient  # installed by scripts/install-deps.sh (python3-nbclient): missing means a broken setup, not a skip
import nbformat

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[3]
SEED002 = REPO / "examples" / "parallel" / "seed002_parallel_magics.ipynb"
CELL_TIMEOUT = 120
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# a kernel, a cluster and ~5 s of work, set up by whichever test runs first: the default 120 s is tight on a
# loaded machine
pytestmark = pytest.mark.timeout(300)


def _ensure_python3_kernelspec(tmp_path, monkeypatch):
    """The 'python3' kernel spec: Debian's python3-ipykernel installs it in /usr/share/jupyter/kernels; when it is
    missing (another Jupyter data path, a bare install), install ipykernel's into a private prefix."""
    if "python3" in KernelSpecManager().find_kernel_specs():
        return
    prefix = tmp_path / "jupyter-prefix"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3"],
                   check=True, capture_output=True, timeout=60)
    data = prefix / "share" / "jupyter"
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(p for p in [str(data), os.environ.get("JUPYTER_PATH")] if p))
    assert "python3" in KernelSpecManager().find_kernel_specs()


def _text(cell):
    """Everything a code cell showed: its streams and the text/plain of its results and displays, ANSI-free."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", "") + "\n")
        elif out["output_type"] == "error":
            parts.append("\n".join(out["traceback"]) + "\n")
    return ANSI.sub("", "".join(parts))


def _lines(cell):
    return [line for line in _text(cell).splitlines() if line.strip()]


def _result(cell):
    """The text/plain of the cell's execute_result (its Out[n])."""
    for out in cell.get("outputs", []):
        if out["output_type"] == "execute_result":
            return out["data"]["text/plain"]
    raise AssertionError(f"cell {cell.source!r} has no result; outputs: {cell.get('outputs')}")


def _cell(nb, source):
    matches = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == source.strip()]
    assert len(matches) == 1, f"expected one cell {source!r}, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="module")
def seed002(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb-seed002")
    mp = pytest.MonkeyPatch()
    try:
        _ensure_python3_kernelspec(tmp, mp)
        nb = nbformat.read(SEED002, as_version=4)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO / "python"), os.environ.get("PYTHONPATH")] if p)
        env["PYMPIBRIDGE_DIR"] = str(tmp / "pympibridge")  # the notebook's cluster files, not ~/.pympibridge
        env["IPYTHONDIR"] = str(tmp / "ipython")              # the kernel's profile, not ~/.ipython
        env["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"          # ipykernel's debugger: no frozen-modules warning
        mp.setenv("JUPYTER_RUNTIME_DIR", env["JUPYTER_RUNTIME_DIR"])  # the connection file is written from here
        client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp)}})
        try:
            client.execute(env=env)
        except nbclient.exceptions.CellExecutionError as e:
            pytest.fail(f"the notebook failed:\n{e}")
        yield nb
    finally:
        mp.undo()


def test_seed002_runs_in_a_kernel(seed002):
    for cell in seed002.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o["output_type"] == "error"], _text(cell)
    assert _result(_cell(seed002, "rc.ids")) == "[0, 1]"


def test_seed002_px_magics(seed002):
    # %px: one Out per engine, the count being that engine's execution counter
    lines = _lines(_cell(seed002, "%px sum(range(101))"))
    assert [re.sub(r":\d+\]", ":N]", line) for line in lines] == ["Out[0:N]: 5050", "Out[1:N]: 5050"], lines
    count = int(re.match(r"Out\[0:(\d+)\]", lines[0]).group(1))

    # %pxconfig --targets 1: only engine 1 from now on, one execute further on
    lines = _lines(_cell(seed002, "%pxconfig --targets 1\n%px sum(range(101))"))
    assert lines == [f"Out[1:{count + 1}]: 5050"], lines

    # %%px --targets :-1: the first engine only (of two), prefixed
    lines = _lines(_cell(seed002, "%%px --targets :-1\nimport os\nprint(os.getpid())"))
    assert len(lines) == 1 and re.fullmatch(r"\[stdout:0\] \d+", lines[0]), lines
    pid0 = int(lines[0].split()[-1])

    # %%px --noblock returns the AsyncResult; %pxresult shows the engines' pids
    noblock = _cell(seed002, "%%px --noblock\nimport os\nimport time\ntime.sleep(0.5)\nos.getpid()")
    assert _result(noblock).startswith("<AsyncResult(%px)"), _result(noblock)
    lines = _lines(_cell(seed002, "%pxresult"))
    assert len(lines) == 2, lines
    m0, m1 = (re.fullmatch(r"Out\[(\d):(\d+)\]: (\d+)", line) for line in lines)
    assert m0 and m1, lines
    assert (m0.group(1), m1.group(1)) == ("0", "1")
    assert int(m0.group(3)) == pid0 and int(m1.group(3)) != pid0


def test_seed002_map(seed002):
    assert _lines(_cell(seed002, "with v.sync_imports():\n    import time")) == ["importing time on engine(s)"]
    squares = [x * x for x in range(10)]
    assert ast.literal_eval(_result(_cell(seed002, "v.map_sync(f, range(10))"))) == squares
    assert ast.literal_eval(_result(_cell(seed002, "r.get()"))) == squares
    ready, elapsed = ast.literal_eval(_result(_cell(seed002, "r.ready(), r.elapsed")))
    assert isinstance(ready, bool) and elapsed >= 0
    elapsed, serial = ast.literal_eval(_result(_cell(seed002, "r.elapsed, r.serial_time")))
    # ten tasks of 0.1 s: at least 1 s of engine time, done by two engines in parallel
    assert serial >= 0.99, serial
    assert 0.45 <= elapsed < serial, (elapsed, serial)
    for source in ("%timeit -n 1 -r 1 v.map_sync(f, range(10))", "%timeit -n 1 -r 1 list(map(f, range(10)))"):
        assert re.search(r"\d+(\.\d+)? (ms|s) ± .* per loop", _text(_cell(seed002, source))), _text(_cell(seed002, source))
