"""Tests across simulated hosts (see simhosts.py): python3 -m pytest tests/multihost, as root.

The hosts are made once per run and removed at its end, with anything still running on them. Where they cannot be
made (not root, namespaces not permitted) every test here is skipped with the reason, and scripts/run-tests.sh
counts and prints the skips: a skip is never a pass.
"""
import os
import pathlib
import sys
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON_PACKAGE = REPO / "python"
sys.path.insert(0, str(HERE))
if str(PYTHON_PACKAGE) not in sys.path:
    sys.path.insert(0, str(PYTHON_PACKAGE))

import simhosts  # noqa: E402

PYMPI = REPO / "pympi"
KERNELS = REPO / "artifacts" / "bin" / "Kernels" / "release" / "Kernels.dll"


def pytest_collection_modifyitems(items):
    # a hang must fail the test, not CI: every test here has a timeout unless it sets its own
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(180))


@pytest.fixture(scope="session")
def hosts():
    """Two simulated hosts, simhost0 (10.77.0.1) and simhost1 (10.77.0.2)."""
    reason = simhosts.unavailable_reason()
    if reason:
        pytest.skip(f"simulated hosts unavailable: {reason}")
    with simhosts.SimulatedHosts(2) as made:
        yield made


@pytest.fixture(scope="session")
def workdir():
    """Files a test shares between hosts (hostfiles, connection files): the file system is shared, as NFS would be."""
    with tempfile.TemporaryDirectory(prefix="pympi-multihost-") as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="session")
def hostfile(hosts, workdir):
    """Two slots on each host: ranks 0, 1 on simhost0, ranks 2, 3 on simhost1."""
    return hosts.write_hostfile(workdir / "hostfile", slots=2)


@pytest.fixture(scope="session")
def env(hosts, workdir):
    """The environment of a shell on a simulated host: the agent's host table, a private cluster directory."""
    e = dict(os.environ, **hosts.agent_environment())
    e["PYMPIBRIDGE_DIR"] = str(workdir / "pympibridge")
    e["PYTHONPATH"] = os.pathsep.join(p for p in [str(PYTHON_PACKAGE), e.get("PYTHONPATH", "")] if p)
    e.pop("PYMPI_LOG_LEVEL", None)
    return e


def pympi_run_argv(hostfile, ranks, *program, timeout=120):
    """``pympi run`` over the hostfile, through the simulated hosts' launch agent."""
    return [str(PYMPI), "run", "-n", str(ranks), "--hostfile", str(hostfile), "--launch-agent", str(simhosts.AGENT),
            "--timeout", str(timeout), *map(str, program)]
