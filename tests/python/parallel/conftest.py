"""Tests in this folder run in plain Python (no PyMpiBridge host): python3 -m pytest tests/python/parallel."""
import pathlib
import sys

# Import the in-tree package (python/pympibridge) without installing it.
PYTHON = str(pathlib.Path(__file__).resolve().parents[3] / "python")
if PYTHON not in sys.path:
    sys.path.insert(0, PYTHON)

import os
import tempfile

import pytest

# Every cluster these tests start writes its files under a private directory, never the user's ~/.pympibridge.
os.environ.setdefault("PYMPIBRIDGE_DIR", tempfile.mkdtemp(prefix="pympi-parallel-tests-"))
# Engines import the in-tree package too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [PYTHON, os.environ.get("PYTHONPATH", "")] if p)


def pytest_collection_modifyitems(items):
    # a hang must fail the test, not CI: every test here has a timeout unless it sets its own
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture(scope="session")
def cluster():
    """One cluster of 2 MPI engines shared by the tests of a run (starting one costs ~1-2 s)."""
    import pympibridge.parallel as ipp
    c = ipp.Cluster(n=2, cluster_id="pytest-shared", engine_timeout=60)
    c.start_cluster_sync()
    yield c
    c.stop_cluster_sync()


@pytest.fixture
def rc(cluster):
    """A fresh client on the shared cluster; the engines' namespaces are cleared first."""
    client = cluster.connect_client_sync()
    client.wait_for_engines(cluster.n, timeout=60)
    client.clear(block=True)
    yield client
    client.close()
