"""A cluster across two simulated hosts, as seed 000 sets one up: the controller on simhost0 listening on its
address (``pympi cluster start --ip``), the engine connection file copied to simhost1, engines started there with
``pympi cluster engines --connect FILE -n 2`` (ipengine), a client on simhost0 running map/apply/push/pull against
engines on both hosts. Clients and engines holding a wrong key are refused, the engines' refusal logged."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import PYMPI, REPO

CLUSTER = "multihost"


@pytest.fixture(scope="module")
def homes(workdir, env):
    """Each host its own cluster directory (its own ~/.pympibridge): files move between them only by copying."""
    envs = []
    for name in ("a", "b"):
        home = workdir / f"home-{name}"
        home.mkdir()
        envs.append(dict(env, PYMPIBRIDGE_DIR=str(home)))
    return envs


def security(env_):
    return pathlib.Path(env_["PYMPIBRIDGE_DIR"]) / "profile_default" / "security"


@pytest.fixture(scope="module")
def cluster(hosts, homes, workdir):
    """Controller + 1 engine on simhost0 bound to 10.77.0.1; 2 engines on simhost1 joined with the copied file."""
    a, b = hosts[0], hosts[1]
    env_a, env_b = homes
    started = a.run([PYMPI, "cluster", "start", "-n", "1", "--ip", a.address, "--daemon", "--cluster-id", CLUSTER,
                     "--timeout", "100"], timeout=150, env=env_a, cwd=REPO)
    assert started.returncode == 0, f"stdout:\n{started.stdout}\nstderr:\n{started.stderr}"
    engine_file = security(env_a) / f"ipcontroller-{CLUSTER}-engine.json"
    copied = pathlib.Path(env_b["PYMPIBRIDGE_DIR"]) / "ipcontroller-engine.json"   # scp, in seed 000
    shutil.copy(engine_file, copied)
    log_b = open(workdir / "engines-b.log", "w+")
    joined = b.popen([PYMPI, "cluster", "engines", "--connect", copied, "-n", "2"], env=env_b, cwd=REPO,
                     stdout=log_b, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield {"client_file": security(env_a) / f"ipcontroller-{CLUSTER}-client.json", "engine_file": engine_file,
               "joined": joined, "joined_log": log_b}
    finally:
        a.run([PYMPI, "cluster", "stop", "--cluster-id", CLUSTER], timeout=90, env=env_a, cwd=REPO)
        try:
            joined.wait(60)
        except subprocess.TimeoutExpired:
            pass  # the test below reports it; the hosts fixture kills what is left


def forge(path, into):
    """A copy of a connection file with another key: a user with an old or foreign file."""
    data = json.loads(pathlib.Path(path).read_text())
    data["key"] = "ab" * 32
    into.write_text(json.dumps(data))
    return into


def test_controller_listens_on_its_hosts_address(hosts, cluster):
    data = json.loads(cluster["client_file"].read_text())
    assert data["controller"].startswith(f"tcp://{hosts[0].address}:")


def test_client_on_the_controllers_host_runs_map_apply_push_pull_on_engines_of_both_hosts(hosts, cluster, homes,
                                                                                          workdir):
    forged = forge(cluster["client_file"], workdir / "forged-client.json")
    ran = hosts[0].run(["/usr/bin/python3", REPO / "tests/multihost/jobs/cluster_client.py", cluster["client_file"],
                        forged, 3], timeout=150, env=homes[0], cwd=REPO)
    assert ran.returncode == 0, f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["client_host"] == "simhost0"
    assert seen["forged_client"].startswith("AuthenticationFailed: the cluster refused this connection: wrong cluster key")
    assert seen["ids"] == [0, 1, 2]
    # engine 0 is the controller's own (rank 0 of its job); 1 and 2 are the joined job's ranks 0 and 1, on simhost1,
    # with a COMM_WORLD of their own
    assert [tuple(w) for w in seen["where"]] == [("simhost0", 0, 1), ("simhost1", 0, 2), ("simhost1", 1, 2)]
    assert seen["urls"]["1"].startswith(f"tcp://{hosts[1].address}:") and \
        seen["urls"]["2"].startswith(f"tcp://{hosts[1].address}:")
    assert [tuple(x) for x in seen["direct_map"]] == [(x * x, "simhost0" if x < 4 else "simhost1") for x in range(12)]
    assert seen["lb_map"] == [x ** 3 for x in range(60)]
    assert seen["pull_ok"] == [True, True, True]
    assert seen["gathered_ok"] is True
    assert seen["apply_on_last"] == 1000.0


def test_engines_with_a_wrong_key_are_refused_and_the_refusal_is_logged(hosts, cluster, homes, workdir):
    env_a, env_b = homes
    forged = forge(cluster["engine_file"], pathlib.Path(env_b["PYMPIBRIDGE_DIR"]) / "forged-engine.json")
    ran = hosts[1].run([PYMPI, "cluster", "engines", "--connect", forged, "-n", "1"], timeout=120, env=env_b,
                       cwd=REPO)
    assert ran.returncode != 0
    assert "engine (rank 0): the cluster refused this connection: wrong cluster key" in ran.stderr, ran.stderr
    log = pathlib.Path(env_a["PYMPIBRIDGE_DIR"]) / "profile_default" / "log" / f"controller-{CLUSTER}.log"
    assert f"refused a connection from {hosts[1].address}" in log.read_text()


def test_joined_engines_stop_with_the_cluster(hosts, cluster, homes):
    stopped = hosts[0].run([PYMPI, "cluster", "stop", "--cluster-id", CLUSTER], timeout=90, env=homes[0], cwd=REPO)
    assert stopped.returncode == 0, stopped.stderr
    try:
        code = cluster["joined"].wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail("the engines on simhost1 still run 60 s after the cluster stopped")
    cluster["joined_log"].seek(0)
    assert code == 0, cluster["joined_log"].read()
