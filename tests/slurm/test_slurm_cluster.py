"""`pympi cluster start --launcher slurm`: the engines are a Slurm batch job (as ipyparallel's SlurmEngineSetLauncher
makes them); clients use them as any engines; stopping the cluster ends the job — also when the controller died."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from conftest import PYMPI, PYTHON_PACKAGE, ROOT, describe, run

CLIENT = """
import json, os, sys
import pympibridge.parallel as ipp
rc = ipp.Client(cluster_id=sys.argv[1], timeout=30)
view = rc[:]
def where():
    import os
    from mpi4py import MPI
    return os.environ.get("SLURM_JOB_ID"), MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
placed = view.apply_sync(where)
view.push({"offset": 1000})
squares = rc.load_balanced_view().map_sync(lambda x: x * x + offset, range(40))
view.scatter("part", list(range(8)))
parts = view.pull("part", block=True)
print("RESULT " + json.dumps({"ids": rc.ids, "placed": placed, "squares": squares, "parts": parts}), flush=True)
rc.close()
"""


def connection_file(env, cluster_id):
    return pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "security" / f"ipcontroller-{cluster_id}-client.json"


def job_state(env, job):
    r = run(["scontrol", "show", "job", "-o", str(job)], env, timeout=30)
    if r.returncode != 0:
        return None  # Slurm forgot it
    return dict(field.split("=", 1) for field in r.stdout.split() if "=" in field)


def wait_job_ended(env, job, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = job_state(env, job)
        if state is None or state["JobState"] in ("COMPLETED", "CANCELLED", "FAILED", "TIMEOUT"):
            return state
        time.sleep(0.5)
    pytest.fail(f"Slurm job {job} still {job_state(env, job)} after {timeout} s")


def engine_processes(env):
    """Engine processes of this test's clusters (their command line names an engine file in its state directory)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if "pympibridge.parallel._engine" in line and env["PYMPIBRIDGE_DIR"] in line]


@pytest.fixture
def env(slurm_env, tmp_path):
    return dict(slurm_env, PYMPIBRIDGE_DIR=str(tmp_path / "state"))


@pytest.mark.timeout(300)
def test_cluster_engines_are_a_slurm_job_that_serves_clients_and_stop_ends_it(env):
    started = run([PYMPI, "cluster", "start", "--launcher", "slurm", "-n", "4", "--daemon", "--cluster-id", "slurm1",
                   "--timeout", "150"], env, timeout=200)
    try:
        assert started.returncode == 0, describe(started)
        assert "cluster ready: 4 MPI engines" in started.stdout, describe(started)
        job = json.loads(connection_file(env, "slurm1").read_text())["slurm_job"]
        state = job_state(env, job)
        assert (state["JobState"], state["NumTasks"], state["JobName"]) == ("RUNNING", "4", "pympi-engines-default-slurm1"), state
        listed = run([PYMPI, "cluster", "list"], env, timeout=60)
        assert f"(engines: Slurm job {job})" in listed.stdout, describe(listed)

        client = run([sys.executable, "-c", CLIENT, "slurm1"], env, timeout=120)
        assert client.returncode == 0, describe(client)
        result = json.loads(client.stdout.split("RESULT ", 1)[1])
        assert result["ids"] == [0, 1, 2, 3]
        assert sorted(map(tuple, result["placed"])) == [(job, r, 4) for r in range(4)]  # MPI ranks of that very job
        assert result["squares"] == [x * x + 1000 for x in range(40)]
        assert sum(result["parts"], []) == list(range(8))
    finally:
        stopped = run([PYMPI, "cluster", "stop", "--cluster-id", "slurm1"], env, timeout=120)
    assert stopped.returncode == 0, describe(stopped)
    state = wait_job_ended(env, job, timeout=30)  # the engines exit when the controller tells them: the job completes
    assert state is None or state["JobState"] in ("COMPLETED", "CANCELLED"), state
    assert not engine_processes(env), engine_processes(env)
    assert not connection_file(env, "slurm1").exists()


@pytest.mark.timeout(120)
def test_cluster_start_names_the_state_of_an_engines_job_that_never_ran_and_cancels_it(env):
    started = run([PYMPI, "cluster", "start", "--launcher", "slurm", "-n", "2", "--daemon", "--cluster-id", "queued",
                   "--timeout", "8", "--sbatch-arg=--begin=now+3600"], env, timeout=100)
    assert started.returncode != 0, describe(started)
    assert "is PENDING (BeginTime)" in started.stderr, describe(started)
    job = started.stderr.split("Slurm job ", 1)[1].split()[0]
    assert wait_job_ended(env, job, timeout=60)["JobState"] == "CANCELLED"
    assert not connection_file(env, "queued").exists()


@pytest.mark.timeout(120)
def test_cluster_stop_cancels_the_engines_job_of_a_dead_controller(env, monkeypatch):
    # engines whose controller dies exit on their own; a job still queued has no engine to notice: stop must end it
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from pympibridge.parallel import _files, _launch
    controller = _launch.start_controller(2, "default", "orphan", "127.0.0.1", "memory", str(ROOT), log_path=os.devnull,
                                          launcher="slurm", sbatch_args=["--begin=now+3600"])
    try:
        deadline = time.monotonic() + 30
        while "slurm_job" not in (_files.read_json(connection_file(env, "orphan")) if connection_file(env, "orphan").exists() else {}):
            assert time.monotonic() < deadline and controller.poll() is None, "the controller recorded no engines job"
            time.sleep(0.1)
        job = _files.read_json(connection_file(env, "orphan"))["slurm_job"]
        assert job_state(env, job)["JobState"] == "PENDING"
    finally:
        os.killpg(controller.pid, signal.SIGKILL)
        controller.wait()
    stopped = run([PYMPI, "cluster", "stop", "--cluster-id", "orphan"], env, timeout=60)
    assert stopped.returncode == 0, describe(stopped)
    assert f"engines job {job} cancelled" in stopped.stdout, describe(stopped)
    assert wait_job_ended(env, job, timeout=60)["JobState"] == "CANCELLED"


@pytest.mark.timeout(300)
def test_python_cluster_with_slurm_engines_as_ipyparallel_names_them(env, monkeypatch):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    sys.path.insert(0, PYTHON_PACKAGE)
    import pympibridge.parallel as ipp
    cluster = ipp.Cluster(n=2, engines="slurm", cluster_id="pyapi", engine_timeout=150)
    with cluster as rc:
        job = json.loads(pathlib.Path(cluster.cluster_file).read_text())["slurm_job"]
        assert rc[:].apply_sync(lambda: __import__("os").environ["SLURM_JOB_ID"]) == [job, job]
    state = wait_job_ended(env, job, timeout=60)
    assert state is None or state["JobState"] in ("COMPLETED", "CANCELLED")
    assert not engine_processes(env), engine_processes(env)
