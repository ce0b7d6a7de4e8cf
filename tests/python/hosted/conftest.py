"""Tests in this folder run INSIDE the PyMpiBridge host: ./pympi run -m pytest tests/python/hosted."""
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
KERNELS = REPO / "artifacts" / "bin" / "Kernels" / "release" / "Kernels.dll"


def pytest_collection_modifyitems(config, items):
    import pympibridge
    if not pympibridge.in_host:
        raise pytest.UsageError("tests/python/hosted must run under the host: ./pympi run -m pytest tests/python/hosted")


@pytest.fixture(scope="session")
def kernels():
    from pympibridge import csharp
    assert KERNELS.is_file(), f"{KERNELS} is not built: run make build"
    return csharp.load(KERNELS)
