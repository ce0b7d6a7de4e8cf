"""The Python face of the bridge, seen from Python code running in a PyMpiBridge rank."""
import mpi4py
import numpy as np
import pytest
from mpi4py import MPI

import pympibridge
from pympibridge import csharp, world


def test_world_is_the_hosts_comm_world_not_a_copy():
    assert pympibridge.in_host
    assert MPI._handleof(world) == MPI._handleof(MPI.COMM_WORLD)
    assert world.allreduce(1) == world.Get_size()


def test_mpi4py_was_told_the_host_owns_mpi():
    assert mpi4py.rc.initialize is False and mpi4py.rc.finalize is False
    assert MPI.Is_initialized() and not MPI.Is_finalized()


def test_handles_round_trip_between_languages():
    dup = world.Dup()
    try:
        again = pympibridge.from_csharp_handle(pympibridge.to_csharp_handle(dup))
        assert MPI._handleof(again) == MPI._handleof(dup)
    finally:
        dup.Free()


def test_to_csharp_handle_rejects_non_communicators():
    with pytest.raises(TypeError, match="expected an mpi4py communicator, got int"):
        pympibridge.to_csharp_handle(42)


def test_load_lists_the_exported_kernels(kernels):
    assert {"diffuse_step", "global_sum_of_squares", "axpy"} <= set(kernels)
    assert "axpy" in dir(csharp)


def test_csharp_kernel_writes_into_numpy_array_in_place(kernels):
    x = np.arange(5.0)
    y = np.ones(5)
    address = y.__array_interface__["data"][0]
    csharp.axpy(2.0, x, y)
    assert y.tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert y.__array_interface__["data"][0] == address  # the same memory, not a new array


def test_csharp_kernel_takes_the_communicator(kernels):
    x = np.full(10, 2.0)
    assert csharp.global_sum_of_squares(world, x) == 40.0 * world.Get_size()


def test_size_mismatch_raised_by_csharp_arrives_as_value_error(kernels):
    with pytest.raises(ValueError, match="x has 3 elements but y has 4"):
        csharp.axpy(1.0, np.zeros(3), np.zeros(4))


def test_wrong_dtype_is_a_type_error_naming_both_types(kernels):
    with pytest.raises(TypeError, match="expected float64.*got int64"):
        csharp.axpy(1.0, np.zeros(3, dtype=np.int64), np.zeros(3))


def test_read_only_array_is_refused_for_writing(kernels):
    y = np.zeros(3)
    y.setflags(write=False)
    with pytest.raises(Exception, match="(?i)read-only|readonly|writable"):
        csharp.axpy(1.0, np.zeros(3), y)


def test_unknown_function_lists_what_is_exported(kernels):
    with pytest.raises(AttributeError, match="no C# function named 'nope'.*axpy"):
        csharp.nope


def test_loading_a_missing_assembly_says_which_path():
    with pytest.raises(Exception, match="no .NET assembly at '/no/such/Kernels.dll'"):
        csharp.load("/no/such/Kernels.dll")
