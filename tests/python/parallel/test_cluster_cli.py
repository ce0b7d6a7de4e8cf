"""`./pympi cluster start|stop|list`: the ipcluster of this product, driven as a user would from a shell."""

import json
import os
import pathlib
import signal
import stat
import subprocess
import time

import pytest

import pympibridge.parallel as ipp

from _remote import poll, processes_naming

ROOT = pathlib.Path(__file__).resolve().parents[3]
PYMPI = str(ROOT / "pympi")


def _pympi(*args, env, timeout=180):
    return subprocess.run([PYMPI, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, PYMPIBRIDGE_DIR=str(tmp_path / "state"))
    return e


def _processes_of(pid):
    """The controller and everything it started: its descendants, and every process in a session one of them leads
    (the engines' mpiexec starts its own session; a rank orphaned by a crash keeps that session)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,sid="], capture_output=True, text=True).stdout.split()
    rows = [tuple(map(int, out[i:i + 3])) for i in range(0, len(out), 3)]
    tree = {pid} if any(p == pid for p, _, _ in rows) else set()
    grew = True
    while grew:
        grew = False
        for p, pp, sid in rows:
            if p not in tree and (pp in tree or sid in tree):
                tree.add(p)
                grew = True
    return sorted(tree)


def _still_running(pids):
    """Those of ``pids`` that are alive and not zombies."""
    running = []
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                if "zombie" not in f.read():
                    running.append(p)
        except OSError:
            pass
    return running


@pytest.mark.timeout(300)
def test_daemon_cluster_serves_default_client_then_stops_leaving_no_process(env, monkeypatch):
    started = _pympi("cluster", "start", "-n", "2", "--daemon", "--db", "sqlite", env=env)
    assert started.returncode == 0, started.stderr
    try:
        assert "cluster ready: 2 MPI engines" in started.stdout
        _daemon_cluster_checks(env, monkeypatch)
    finally:
        _pympi("cluster", "stop", env=env)  # a failed check must not leave the daemon running (a no-op after one)


def _daemon_cluster_checks(env, monkeypatch):
    sec = pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "security" / "ipcontroller-client.json"
    assert stat.S_IMODE(sec.stat().st_mode) == 0o600  # it holds the key
    data = json.loads(sec.read_text())
    assert data["controller"].startswith("tcp://127.0.0.1:")  # loopback unless --ip
    pid = data["pid"]

    listed = _pympi("cluster", "list", env=env)
    assert "running" in listed.stdout and str(pid) in listed.stdout

    monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
    rc = ipp.Client()  # the default cluster, found through its connection file
    try:
        assert rc.ids == [0, 1]
        assert rc[:].apply_sync(lambda: 6 * 7) == [42, 42]
        rc.wait_for_engines(2, timeout=10)
        # the sqlite task database got the records
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not rc.db_query({"status": "ok"}, keys=["msg_id"]):
            time.sleep(0.05)
        assert rc.db_query({"status": "ok"}, keys=["msg_id"])
    finally:
        rc.close()
    assert (pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "tasks-default.db").exists()

    group = _processes_of(pid)
    assert pid in group and len(group) >= 4  # controller, pympi, mpiexec, engines
    stopped = _pympi("cluster", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    poll(lambda: not _still_running(group), 15, 0.1)
    assert _still_running(group) == []
    assert not sec.exists()
    assert "no clusters" in _pympi("cluster", "list", env=env).stdout


def test_start_refuses_a_second_cluster_with_the_same_id(env):
    assert _pympi("cluster", "start", "-n", "1", "--daemon", "--cluster-id", "one", env=env).returncode == 0
    try:
        again = _pympi("cluster", "start", "-n", "1", "--daemon", "--cluster-id", "one", env=env)
        assert again.returncode != 0
        assert "already running" in again.stderr
    finally:
        assert _pympi("cluster", "stop", "--cluster-id", "one", env=env).returncode == 0


def test_stop_without_a_cluster_says_so(env):
    r = _pympi("cluster", "stop", "--cluster-id", "nothing", env=env)
    assert r.returncode != 0
    assert "no cluster" in r.stderr


def test_start_rejects_a_negative_number_of_engines(env):
    r = _pympi("cluster", "start", "-n", "-1", env=env)
    assert r.returncode != 0
    assert "at least 0" in r.stderr


@pytest.mark.timeout(300)
def test_engines_joining_a_lone_controller_get_one_block_of_ids_per_job(env, monkeypatch):
    # ipcontroller then ipengine (seed 000), on one host: two MPI jobs of engines join a controller started alone
    started = _pympi("cluster", "start", "-n", "0", "--daemon", "--cluster-id", "joined", env=env)
    assert started.returncode == 0, started.stderr
    assert "cluster ready: 0 MPI engines" in started.stdout
    security = pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "security"
    jobs = [subprocess.Popen([PYMPI, "cluster", "engines", "--connect", str(security / "ipcontroller-joined-engine.json"),
                              "-n", str(n)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in (2, 1)]
    try:
        monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
        rc = ipp.Client(cluster_id="joined", timeout=10)
        try:
            rc.wait_for_engines(3, timeout=120)
            assert rc.ids == [0, 1, 2]

            def where():
                from mpi4py import MPI
                return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
            # each job's ranks hold contiguous ids in rank order; which job registered first decides the order
            assert rc[:].apply_sync(where) in ([(0, 2), (1, 2), (0, 1)], [(0, 1), (0, 2), (1, 2)])
            assert rc.load_balanced_view().map_sync(lambda x: x * x, range(30)) == [x * x for x in range(30)]
        finally:
            rc.close()
    finally:
        stopped = _pympi("cluster", "stop", "--cluster-id", "joined", env=env)
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.wait(60))
            except subprocess.TimeoutExpired:
                job.kill()
                outcomes.append("still running 60 s after the cluster stopped")
    assert stopped.returncode == 0, stopped.stderr
    # the joined engines ended with the cluster, cleanly
    assert outcomes == [0, 0], [job.stderr.read() for job in jobs]


def test_stale_connection_file_is_reported_and_removed(env):
    sec = pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "security"
    sec.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (sec / "ipcontroller-gone-client.json").write_text(json.dumps({"pid": dead.pid, "cluster_id": "gone", "n": 2,
                                                                   "controller": "tcp://127.0.0.1:1"}))
    assert "stale" in _pympi("cluster", "list", env=env).stdout
    r = _pympi("cluster", "stop", "--cluster-id", "gone", env=env)
    assert r.returncode == 0 and "stale connection file removed" in r.stdout
    assert not (sec / "ipcontroller-gone-client.json").exists()


def test_a_connection_without_the_key_runs_nothing(env, monkeypatch):
    assert _pympi("cluster", "start", "-n", "1", "--daemon", "--cluster-id", "keyed", env=env).returncode == 0
    try:
        monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
        path = pathlib.Path(env["PYMPIBRIDGE_DIR"]) / "profile_default" / "security" / "ipcontroller-keyed-client.json"
        forged = json.loads(path.read_text())
        forged["key"] = "00" * 32
        fake = path.with_name("forged.json")
        fake.write_text(json.dumps(forged))
        from pympibridge.parallel import _wire
        with pytest.raises(_wire.AuthenticationFailed):
            ipp.Client(url_file=str(fake), timeout=5)
        # the real key still works: the refused connection left the controller serving
        rc = ipp.Client(url_file=str(path), timeout=10)
        assert rc[:].apply_sync(lambda: "ok") == ["ok"]
        rc.close()
    finally:
        assert _pympi("cluster", "stop", "--cluster-id", "keyed", env=env).returncode == 0


@pytest.mark.timeout(180)
def test_stop_ends_what_the_engines_left_in_process_groups_of_their_own(env, monkeypatch):
    """Open MPI starts each rank in a process group of its own: the stop must reach the whole session of the engines'
    job, not just mpiexec's group (a rank still starting when mpiexec was killed was left waiting forever)."""
    monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
    cluster = ipp.Cluster(n=2, cluster_id="own-groups")
    rc = cluster.start_and_connect_sync()
    try:
        def detached_child():
            import subprocess
            return subprocess.Popen(["sleep", "600"], process_group=0).pid  # its own group, the engines' session
        pids = rc[:].apply_sync(detached_child)
        assert all(os.path.exists(f"/proc/{p}") for p in pids)
    finally:
        rc.close()
        cluster.stop_cluster_sync()
    poll(lambda: not _still_running(pids), 15, 0.1)
    assert _still_running(pids) == [], "processes in the engines' session outlived the cluster"


@pytest.mark.timeout(240)
def test_restart_engines_gives_fresh_engines_and_keeps_the_ones_that_joined(env, monkeypatch):
    """As ipyparallel restarts the engine sets its Cluster launched: this cluster's engines come back as new processes
    with the same ids and empty namespaces; a job of engines that joined it keeps running, namespace and all."""
    from pympibridge.parallel import _files, error
    monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
    cluster = ipp.Cluster(n=2, cluster_id="restarts")
    rc = cluster.start_and_connect_sync()
    joined = subprocess.Popen([PYMPI, "cluster", "engines", "--connect", _files.engine_file("default", "restarts"),
                               "-n", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rc.wait_for_engines(3, timeout=120)
        assert rc.ids == [0, 1, 2]
        before = dict(zip(rc.ids, rc[:].apply_sync(os.getpid)))
        rc[:].push({"x": 5}, block=True)

        cluster.restart_engines_sync()

        assert rc.ids == [0, 1, 2]
        after = dict(zip(rc.ids, rc[:].apply_sync(os.getpid)))
        assert after[0] != before[0] and after[1] != before[1], "the cluster's own engines are new processes"
        assert after[2] == before[2], "the joined engine was left running"
        assert rc[2].pull("x", block=True) == 5
        for eid in (0, 1):
            with pytest.raises(error.RemoteError) as e:
                rc[eid].pull("x", block=True)
            assert e.value.ename == "NameError"
        assert rc.load_balanced_view().map_sync(lambda v: v + 1, range(12)) == list(range(1, 13))
    finally:
        rc.close()
        cluster.stop_cluster_sync()
        try:
            outcome = joined.wait(60)
        except subprocess.TimeoutExpired:
            joined.kill()
            outcome = "still running 60 s after the cluster stopped"
    assert outcome == 0, joined.stderr.read()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("after", [0.3, 1.0, 2.0])
def test_stop_while_the_engines_are_starting_leaves_no_process(env, monkeypatch, after):
    # found after a 128-engine cluster was stopped while starting: a late rank was left waiting forever
    from pympibridge.parallel import _files
    monkeypatch.setenv("PYMPIBRIDGE_DIR", env["PYMPIBRIDGE_DIR"])
    cluster = ipp.Cluster(n=4, cluster_id=f"early-{after}")
    cluster.start_cluster_sync()
    engine_file = os.path.basename(_files.engine_file("default", cluster.cluster_id))
    time.sleep(after)
    cluster.stop_cluster_sync()
    poll(lambda: not processes_naming(engine_file), 20, 0.1)
    assert processes_naming(engine_file) == set(), "engine processes outlived the stopped cluster"
