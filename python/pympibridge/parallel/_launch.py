"""How a controller starts the engines: the ``pympi`` command, and an environment free of the caller's MPI job.

The engines are ``pympi run -n N -m pympibridge.parallel._engine``: an MPI job of PyMpiBridge ranks. The caller may
itself be an MPI process (a client script under ``./pympi run``, a singleton mpi4py program); the variables its MPI
set up for *it* would make the engines' ``mpiexec`` join the wrong job, so they are removed (a Slurm allocation's own
variables stay: inside one the engines use it; only those of the srun step the caller may be a task of go).
"""

import os
import re
import shlex
import shutil
import subprocess

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../pympibridge

# variables an MPI library sets for the process it launched (not the user's settings, which are kept)
_JOB_VARIABLES = re.compile(
    r"^(PMIX_|PMI_|HYDRA_|MPIR_|ORTE_|OMPI_COMM_WORLD_|OMPI_MCA_ess|OMPI_MCA_orte_|OMPI_MCA_pmix|"
    r"OMPI_MCA_initial_wdir$|OMPI_MCA_shmem_RUNTIME_QUERY_hint$|OMPI_APP_CTX_NUM_PROCS$|OMPI_NUM_APP_CTX$|"
    r"OMPI_ARGV$|OMPI_COMMAND$|OMPI_FILE_LOCATION$|OMPI_FIRST_RANKS$|OMPI_UNIVERSE_SIZE$|MPI_LOCALRANKID$|"
    r"MPI_LOCALNRANKS$|PALS_|SLURM_STEP_|SLURM_STEPID$|SLURM_PROCID$|SLURM_LOCALID$|SLURM_NODEID$|SLURM_MPI_TYPE$|"
    r"SLURM_TASK_PID$|SLURM_GTIDS$)")


def pympi_command():
    """The command that runs the ``pympi`` tool, as a list; raises with what to do when there is none."""
    explicit = os.environ.get("PYMPI_COMMAND")
    if explicit:
        return shlex.split(explicit)
    home = os.environ.get("PYMPI_HOME")
    if home and os.path.isfile(os.path.join(home, "pympi")):
        return [os.path.join(home, "pympi")]
    # a source checkout: python/pympibridge -> repository root with the ./pympi script
    root = os.path.dirname(os.path.dirname(_PACKAGE_DIR))
    if os.path.isfile(os.path.join(root, "pympi")) and os.path.isfile(os.path.join(root, "PyMpiBridge.sln")):
        return [os.path.join(root, "pympi")]
    # the package copied beside the assemblies: <bin>/python/pympibridge -> <bin>/pympi.dll
    dll = os.path.join(os.path.dirname(os.path.dirname(_PACKAGE_DIR)), "pympi.dll")
    if os.path.isfile(dll):
        return [shutil.which("dotnet") or "dotnet", dll]
    found = shutil.which("pympi")
    if found:
        return [found]
    raise RuntimeError(
        "cannot find the pympi tool to start engines: set PYMPI_HOME to the PyMpiBridge checkout (the directory "
        "holding ./pympi) or PYMPI_COMMAND to the command that runs it")


class LocalEngines(subprocess.Popen):
    """The engines' MPI job as a child process leading a session of its own (``_slurm.SlurmEngines`` is the other kind)."""

    def signal_all(self, sig):
        """Signals the whole session: mpiexec, the ranks, and any rank a crash orphaned. Not just the process group:
        Open MPI puts each rank in a group of its own, so a rank still starting when mpiexec was killed would be
        missed (the rank's own watch on its launcher ends it too; this does not wait for that)."""
        signal_session(self.pid, sig)

    def waiting_in_queue(self):
        return False  # started at once

    def describe(self):
        return f"process {self.pid}"


def signal_session(sid, sig):
    """Signals the process group ``sid`` leads and every other process of its session, in whatever group."""
    try:
        os.killpg(sid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in session_members(sid):  # looked up after the group's signal: what it started meanwhile is included
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def session_members(sid):
    """The processes of session ``sid`` (``/proc/PID/stat``'s sixth field), whatever process group they are in."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # the command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid and int(entry) != sid:
            members.append(int(entry))
    return members


def engine_environment():
    env = {k: v for k, v in os.environ.items() if not _JOB_VARIABLES.match(k)}
    # the engines import this very package
    parent = os.path.dirname(_PACKAGE_DIR)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([parent] + paths)
    return env


# ---- the controller: started the same way by Cluster and by `pympi cluster start` ------------------------------------

def refuse_if_running(profile, cluster_id, hint):
    """Raises RuntimeError if a live controller owns this cluster's connection file; removes a dead one's file."""
    from . import _files
    path = _files.client_file(profile, cluster_id)
    try:
        data = _files.read_json(path)
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        data = {}
    if _files.pid_alive(data.get("pid", -1)):
        raise RuntimeError(f"a cluster is already running for profile {profile!r}"
                           f"{' id ' + repr(cluster_id) if cluster_id else ''} (pid {data.get('pid')}); {hint}")
    os.unlink(path)  # left by a cluster that died


def start_controller(n, profile, cluster_id, ip, db, workdir, location=None, mpi_args=(), log_path=None,
                     log_level=None, launcher="local", sbatch_args=()):
    """Starts ``python -m pympibridge.parallel._controller``. With ``log_path`` its output goes there and it gets a
    session of its own (stopping it takes everything it started); without, it shares this terminal. ``launcher`` is
    ``local`` (the engines are a child ``pympi run``) or ``slurm`` (they are a batch job, ``sbatch_args`` its options)."""
    import sys
    pympi_command()  # fail now, with what to do, if the engines could not be started
    if launcher == "slurm":
        from . import _slurm
        _slurm.require_commands()
    cmd = [sys.executable, "-m", "pympibridge.parallel._controller", "-n", str(n), "--profile", profile,
           "--cluster-id", cluster_id, "--ip", ip, "--db", db, "--workdir", workdir, "--launcher", launcher]
    if location:
        cmd += ["--location", location]
    cmd += ["--mpi-arg=" + arg for arg in mpi_args]
    cmd += ["--sbatch-arg=" + arg for arg in sbatch_args]
    env = engine_environment()
    if log_level:
        env["PYMPI_LOG_LEVEL"] = str(log_level)
    if log_path is None:
        proc = subprocess.Popen(cmd, env=env)
    else:
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
    proc.own_session = log_path is not None
    return proc


def wait_for_controller(proc, connection_file, timeout):
    """Returns once the controller ``proc`` has written its connection file; raises if it exits or times out."""
    import time
    from . import _files
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the controller exited with code {proc.returncode} before it was ready")
        try:
            if _files.read_json(connection_file).get("pid") == proc.pid:
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the controller did not start within {timeout} s")
        time.sleep(0.01)


def stop_controller(proc, grace=15):
    """SIGTERM (the controller stops its engines), then SIGKILL after ``grace`` s; a controller in a session of its
    own takes with it anything it started and left behind."""
    import signal

    def kill(sig):
        if proc.own_session and sig == signal.SIGKILL:
            signal_session(proc.pid, sig)  # with the session's processes in groups of their own
            return
        try:
            if proc.own_session:
                os.killpg(proc.pid, sig)
            elif sig == signal.SIGKILL:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            kill(signal.SIGKILL)
            proc.wait()
    if proc.own_session:
        kill(signal.SIGKILL)
