"""Engines are PyMpiBridge ranks: MPI is exactly the engines, and C# is one call away from engine code."""

import pathlib

import numpy as np
import pytest

KERNELS = pathlib.Path(__file__).resolve().parents[3] / "artifacts" / "bin" / "Kernels" / "release" / "Kernels.dll"


def test_engine_code_runs_inside_the_dotnet_host(rc):
    assert rc[:].apply_sync(lambda: __import__("pympibridge").in_host) == [True, True]


def test_engine_calls_a_csharp_kernel_over_the_engines_communicator(rc):
    assert KERNELS.exists(), f"{KERNELS} is built by 'make build' (examples/csharp/Kernels)"
    view = rc[:]
    view.scatter("x", np.arange(10.0), block=True)
    names = view.apply_sync(lambda path: __import__("pympibridge").csharp.load(path), str(KERNELS))
    assert all("global_sum_of_squares" in n for n in names)

    def sum_of_squares():
        from pympibridge import csharp, world
        return csharp.global_sum_of_squares(world, x)
    # a C# Allreduce over the same MPI_COMM_WORLD the engines share
    assert view.apply_sync(sum_of_squares) == [float((np.arange(10.0) ** 2).sum())] * 2


def test_csharp_kernel_writes_into_a_pushed_array_in_place(rc):
    e = rc[rc.ids[0]]
    e.push({"x": np.ones(4), "y": np.zeros(4)}, block=True)
    e.apply_sync(lambda path: __import__("pympibridge").csharp.load(path), str(KERNELS))
    e.execute("from pympibridge import csharp; csharp.axpy(2.0, x, y)", block=True)
    assert np.array_equal(e.pull("y", block=True), np.full(4, 2.0))
