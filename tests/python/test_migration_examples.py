"""The mpi4py migration examples (examples/python) produce the right output on 1..4 ranks.

Each example prints lines "rank R: ..." whose content is deterministic; MPI interleaves ranks, so
outputs are compared as multisets of (rank, text) and every value is checked against what it must
be (literal pins, or a serial recomputation for the sweeps).

Launchers: today the examples run under plain Open MPI ``mpiexec``. When ``./pympi run -n N
script.py`` exists, add it to LAUNCHERS and every test runs under both, unchanged.
"""
import math
import os
import random
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

PYTHON = "/usr/bin/python3"  # Debian's interpreter: it has mpi4py and numpy (the pyenv one does not)
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"
TIMEOUT_S = 60
RANKS = [4, 1, 2, 3]
LINE = re.compile(r"^rank (\d+): (.*)$")


def _open_mpi_env():
    """Open MPI as root in a container: run-as-root permission, no CMA single-copy."""
    env = dict(os.environ)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    return env


def _mpiexec_argv(ranks, script):
    oversubscribe = ["--oversubscribe"] if ranks > (os.cpu_count() or 1) else []
    return ["mpiexec", "-n", str(ranks), *oversubscribe, PYTHON, str(script)]


@dataclass(frozen=True)
class Launcher:
    """One way to start an N-rank Python job: argv for (ranks, script) and its environment."""

    name: str
    argv: Callable[[int, Path], list]
    env: Callable[[], dict]


LAUNCHERS = [
    Launcher("mpiexec", _mpiexec_argv, _open_mpi_env),
    # Next: Launcher("pympi-run", lambda n, s: [str(REPO / "pympi"), "run", "-n", str(n), str(s)], _open_mpi_env),
]


@dataclass
class RankOutput:
    """Stdout of one job as (rank, text) pairs, in arrival order."""

    lines: list

    def of(self, rank):
        return [text for r, text in self.lines if r == rank]

    def sorted(self):
        return sorted(self.lines)


def run_example(launcher, script, ranks):
    """Runs examples/python/<script> on `ranks` ranks; fails on a non-zero exit, a hang, or a line without a rank prefix."""
    path = EXAMPLES / script
    assert path.is_file(), f"missing example {path}"
    try:
        result = subprocess.run(launcher.argv(ranks, path), capture_output=True, text=True,
                                timeout=TIMEOUT_S, env=launcher.env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script} on {ranks} ranks ({launcher.name}) did not finish in {TIMEOUT_S} s:\n{e.stdout}\n{e.stderr}")
    assert result.returncode == 0, (
        f"{script} on {ranks} ranks ({launcher.name}) exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    lines = []
    for raw in result.stdout.splitlines():
        m = LINE.match(raw)
        assert m, f"{script}: output line without a 'rank R: ' prefix: {raw!r}\nstdout:\n{result.stdout}"
        lines.append((int(m.group(1)), m.group(2)))
    assert {r for r, _ in lines} <= set(range(ranks)), f"{script}: a line names a rank outside 0..{ranks - 1}"
    return RankOutput(lines)


@pytest.fixture(params=LAUNCHERS, ids=lambda launcher: launcher.name)
def launcher(request):
    return request.param


@pytest.fixture(params=RANKS, ids=lambda n: f"n{n}")
def ranks(request):
    return request.param


def split_like_array_split(items, parts):
    """np.array_split's rule, written out: the first len % parts pieces get one extra item."""
    q, extra = divmod(len(items), parts)
    pieces, start = [], 0
    for k in range(parts):
        stop = start + q + (1 if k < extra else 0)
        pieces.append(items[start:stop])
        start = stop
    return pieces


def floats_after(prefix, text):
    assert text.startswith(prefix), f"expected {prefix!r}..., got {text!r}"
    return [float(x) for x in re.findall(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", text[len(prefix):])]


# --- point to point -----------------------------------------------------------------------------

def test_hello_world_every_rank_greets_once_with_its_rank_and_size(launcher, ranks):
    out = run_example(launcher, "hello_world.py", ranks)
    host = socket.gethostname()
    assert out.sorted() == [(r, f"hello, world! I am process {r} of {ranks} on {host}") for r in range(ranks)]


def test_send_recv_objects_each_peer_receives_its_own_object(launcher, ranks):
    out = run_example(launcher, "send_recv_objects.py", ranks)
    if ranks == 1:
        assert out.lines == [(0, "only one rank, nothing to send (run with -n 2 or more)")]
        return

    def message(d):
        return {"dest": d, "squares": [i * i for i in range(d + 3)], "pair": (d, f"r{d}"), "even": d % 2 == 0}

    expected = [(0, f"sent {message(d)!r} to rank {d}") for d in range(1, ranks)]
    expected += [(d, f"received {message(d)!r} from rank 0") for d in range(1, ranks)]
    assert out.sorted() == sorted(expected)
    assert out.of(1) == ["received {'dest': 1, 'squares': [0, 1, 4, 9], 'pair': (1, 'r1'), 'even': False} from rank 0"]


def test_isend_objects_every_rank_receives_and_all_sends_complete(launcher, ranks):
    out = run_example(launcher, "isend_objects.py", ranks)
    expected = [(0, f"posted {ranks} non-blocking sends"), (0, "all sends completed")]
    expected += [(r, f"received {list(range(r, r + 10))}") for r in range(ranks)]
    assert out.sorted() == sorted(expected)
    # Rank 0 reports completion only after waitall, i.e. after its own receive.
    assert out.of(0)[-1] == "all sends completed"


def test_numpy_send_recv_peers_receive_typed_arrays_with_counts(launcher, ranks):
    out = run_example(launcher, "numpy_send_recv.py", ranks)
    if ranks == 1:
        assert out.lines == [(0, "only one rank, no peer to send arrays to (run with -n 2 or more)")]
        return
    expected = [(0, f"sent int32 {list(range(10))} and float64 linspace(0, 1, 5) * dest to ranks 1..{ranks - 1}")]
    for d in range(1, ranks):
        expected.append((d, "received 10 ints [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"))
        expected.append((d, f"received 5 doubles {[0.0, 0.25 * d, 0.5 * d, 0.75 * d, 1.0 * d]}"))
    assert out.sorted() == sorted(expected)
    if ranks >= 4:
        assert "received 5 doubles [0.0, 0.75, 1.5, 2.25, 3.0]" in out.of(3)


def test_isend_irecv_waitall_ring_receives_left_neighbours_array(launcher, ranks):
    out = run_example(launcher, "isend_irecv_waitall.py", ranks)
    expected = []
    for r in range(ranks):
        left, right = (r - 1) % ranks, (r + 1) % ranks
        expected.append((r, f"sent {[float(r)] * 5} to rank {right}, got {[float(left)] * 5} from rank {left}"))
    assert out.sorted() == sorted(expected)


# --- collectives --------------------------------------------------------------------------------

def test_bcast_object_every_rank_gets_roots_config(launcher, ranks):
    out = run_example(launcher, "bcast_object.py", ranks)
    config = "{'model': 'lattice', 'steps': 1000, 'seeds': [11, 22, 33], 'temperatures': (300.0, 350.0)}"
    seeds = [11, 22, 33]
    assert out.sorted() == [(r, f"got config {config}; my seed is {seeds[r % 3]}") for r in range(ranks)]


def test_scatter_objects_pieces_cover_data_in_rank_order(launcher, ranks):
    out = run_example(launcher, "scatter_objects.py", ranks)
    pieces = split_like_array_split(list(range(10)), ranks)
    expected = [(0, f"scattering {list(range(10))} in {ranks} pieces")]
    expected += [(r, f"got {pieces[r]} (sum {sum(pieces[r])})") for r in range(ranks)]
    assert out.sorted() == sorted(expected)
    if ranks == 4:
        assert [out.of(r)[-1] for r in range(4)] == [
            "got [0, 1, 2] (sum 3)", "got [3, 4, 5] (sum 12)", "got [6, 7] (sum 13)", "got [8, 9] (sum 17)"]


def test_gather_objects_root_gets_items_in_rank_order(launcher, ranks):
    out = run_example(launcher, "gather_objects.py", ranks)
    items = [(r, r * r, f"r{r}") for r in range(ranks)]
    expected = [(r, f"sending {items[r]!r} to rank 0") for r in range(ranks)]
    expected += [(0, f"gathered {items!r}"), (0, f"sum of squares {sum(r * r for r in range(ranks))}")]
    assert out.sorted() == sorted(expected)
    if ranks == 4:
        assert "gathered [(0, 0, 'r0'), (1, 1, 'r1'), (2, 4, 'r2'), (3, 9, 'r3')]" in out.of(0)
        assert "sum of squares 14" in out.of(0)


def test_bcast_numpy_overwrites_every_buffer_with_roots_data(launcher, ranks):
    out = run_example(launcher, "bcast_numpy.py", ranks)
    arange = [float(i) for i in range(10)]
    expected = []
    for r in range(ranks):
        expected.append((r, f"before Bcast {arange if r == 0 else [0.0] * 10}"))
        expected.append((r, f"after Bcast {arange}"))
    assert out.sorted() == sorted(expected)
    for r in range(ranks):
        assert out.of(r)[0].startswith("before"), "each rank must print before and after, in that order"


# --- parameter sweeps ---------------------------------------------------------------------------

def serial_turnover_map():
    """The sweep_scatter_map model computed serially, the way the user's original double loop would."""
    p_o2 = np.linspace(1e-5, 0.5, 10)
    p_co = np.linspace(1e-5, 0.5, 10)
    tof = np.empty((10, 10))
    for i, po2 in enumerate(p_o2):
        for j, pco in enumerate(p_co):
            o, co = math.sqrt(5.0 * po2), 20.0 * pco
            free = 1.0 + o + co
            tof[i, j] = 1.0e3 * (o / free) * (co / free)
    return p_o2, p_co, tof


def test_sweep_scatter_map_parallel_map_equals_serial_map(launcher, ranks):
    out = run_example(launcher, "sweep_scatter_map.py", ranks)
    p_o2, p_co, tof = serial_turnover_map()

    blocks = split_like_array_split(list(p_o2), ranks)
    for r in range(ranks):
        assert out.of(r)[0] == f"computed {len(blocks[r])} rows for pO2 {blocks[r][0]:.6g}..{blocks[r][-1]:.6g}"

    root = out.of(0)
    assert len(root) == 4, root
    assert root[1].startswith("map shape 10x10, sum ")
    assert floats_after("map shape 10x10, sum ", root[1]) == [pytest.approx(tof.sum(), rel=1e-9)]
    assert floats_after("map shape 10x10, sum ", root[1]) == [pytest.approx(8342.652801, rel=1e-9)]
    i, j = np.unravel_index(np.argmax(tof), tof.shape)
    assert root[2] == f"max {tof[i, j]:.10g} at pO2 {p_o2[i]:.6g}, pCO {p_co[j]:.6g}"
    assert root[2] == "max 152.2892672 at pO2 0.5, pCO 0.111119"
    # Row order proves the gathered blocks were stacked in rank order.
    assert floats_after("row sums ", root[3]) == pytest.approx(list(tof.sum(axis=1)), rel=1e-9)


def serial_big_job(a, b):
    x = np.linspace(0.0, 10.0, 2001)
    y = np.exp(-a * x) * np.cos(2.0 * np.pi * b * x)
    return float(np.trapz(y, x))


def test_sweep_shuffled_bcast_runs_every_job_once_in_seeded_order(launcher, ranks):
    out = run_example(launcher, "sweep_shuffled_bcast.py", ranks)
    jobs = [(a, b) for a in np.linspace(0.03, 0.5, 12) for b in np.linspace(0.05, 0.95, 12)]
    order = list(range(len(jobs)))
    random.Random(2024).shuffle(order)

    for r in range(ranks):
        mine = order[r::ranks]
        assert out.of(r)[0] == f"ran {len(mine)} jobs, first {mine[:3]}"
    if ranks == 4:
        assert out.of(0)[0] == "ran 36 jobs, first [24, 66, 140]"

    results = [serial_big_job(a, b) for a, b in jobs]
    root = out.of(0)
    assert len(root) == 3, root
    assert root[1].startswith("144 of 144 jobs done, checksum ")
    checksum = floats_after("144 of 144 jobs done, checksum ", root[1])
    assert checksum == [pytest.approx(sum(results), rel=1e-8)]
    assert checksum == [pytest.approx(27.72630523, rel=1e-8)]
    best = int(np.argmax(results))
    assert root[2] == f"largest result {results[best]:.10g} at a {jobs[best][0]:.6g}, b {jobs[best][1]:.6g}"
    assert root[2] == "largest result 1.676314138 at a 0.243636, b 0.05"
