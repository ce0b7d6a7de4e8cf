"""Tests against the private single-node Slurm that tests/slurm/run.sh starts (SLURM_CONF and PYMPI_SLURM_NODE set).

Every command runs under a timeout and every test has one; whatever a test leaves running carries the node's mark and
run.sh's teardown ends it. The tests run from the repository root with the built tree (``make build``)."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYMPI = str(ROOT / "pympi")
PYTHON_PACKAGE = str(ROOT / "python")
sys.path.insert(0, PYTHON_PACKAGE)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(180))


@pytest.fixture(scope="session")
def slurm_env():
    """The environment every Slurm command of the tests runs with."""
    if not os.environ.get("SLURM_CONF") or not os.environ.get("PYMPI_SLURM_NODE"):
        pytest.skip("run these through tests/slurm/run.sh: it starts the private Slurm they need")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [PYTHON_PACKAGE, env.get("PYTHONPATH", "")] if p)
    for name in ("PYMPI_MPI_LIBRARY", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK"):
        env.pop(name, None)
    return env


def run(cmd, env, timeout=120, **kwargs):
    """Runs ``cmd`` from the repository root, capturing text; a command over its time fails the test with its output."""
    try:
        return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{cmd} did not finish within {timeout} s\nstdout: {e.stdout}\nstderr: {e.stderr}")


def describe(result):
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
