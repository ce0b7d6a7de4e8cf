"""Many engines on one machine: a cluster of 128 oversubscribed engines starts, registers and serves every engine."""
import os

import pytest

import pympibridge.parallel as ipp

from _remote import poll, processes_naming

ENGINES = 128


@pytest.mark.timeout(1500)
def test_a_cluster_of_128_oversubscribed_engines_registers_and_a_load_balanced_map_reaches_every_engine():
    cluster_id = f"pytest-scale-{os.getpid()}"
    # on 2 cores each engine's start costs about a second of CPU: give the cluster its time, still bounded
    with ipp.Cluster(n=ENGINES, cluster_id=cluster_id, engine_timeout=1200) as rc:
        assert sorted(rc.ids) == list(range(ENGINES))
        # every engine's MPI world is exactly the engines
        worlds = rc[:].apply_sync(lambda: (__import__("mpi4py.MPI").MPI.COMM_WORLD.Get_rank(),
                                           __import__("mpi4py.MPI").MPI.COMM_WORLD.Get_size()))
        assert worlds == [(rank, ENGINES) for rank in range(ENGINES)]
        # naps long enough that the balancer must spread them: all engines serve, none is only registered
        nap_and_say_who = lambda seconds: (__import__("time").sleep(seconds), __import__("os").getpid())[1]  # noqa: E731
        pids = rc.load_balanced_view().map_sync(nap_and_say_who, [0.2] * (2 * ENGINES), chunksize=1)
        assert len(pids) == 2 * ENGINES
        assert len(set(pids)) == ENGINES
    assert poll(lambda: not processes_naming(cluster_id), 60), "processes of the 128-engine cluster were left"
