"""Cluster: start and stop a controller with N MPI engines from Python, as ipyparallel's ``Cluster``.

``Cluster(n=4).start_and_connect_sync()`` starts ``python -m pympibridge.parallel._controller``, which starts the
engines with ``pympi run -n 4`` (our engines are always MPI engines; ipyparallel 7's
``engine_launcher_class="MPI"`` is accepted; ``"Slurm"`` makes the engines a batch job of n tasks, as ipyparallel's
``SlurmEngineSetLauncher``). ``with Cluster(n=4) as rc:`` stops everything on exit.
"""

import asyncio
import os
import random
import string
import time

from . import _files
from . import _launch
from . import _slurm
from . import error
from .client import Client

_MPI_LAUNCHERS = {"mpi", "mpiexec", "mpirun", "mpienginesetlauncher", "mpiengineset", "local", "localengineset",
                  "localenginesetlauncher", "pympi"}
# ipyparallel's Slurm engine launcher: the engines become a batch job of n tasks (still MPI ranks of one job)
_SLURM_LAUNCHERS = {"slurm", "slurmengineset", "slurmenginesetlauncher"}


def _launcher_name(value):
    if value is None:
        return "mpi"
    name = value if isinstance(value, str) else getattr(value, "__name__", str(value))
    short = name.rsplit(".", 1)[-1].lower()
    if short not in _MPI_LAUNCHERS | _SLURM_LAUNCHERS:
        raise ValueError(f"engine_launcher_class={value!r}: pympibridge engines are MPI ranks started with "
                         "pympi run, here or as a Slurm job; use 'MPI' (or leave it out) or 'Slurm'")
    return short


class Cluster:
    """A controller and its engines, owned by this object."""

    def __init__(self, n=None, profile=None, cluster_id=None, engine_launcher_class=None,
                 controller_launcher_class=None, controller_ip=None, controller_location=None, db="memory",
                 log_level=None, engine_timeout=60, mpi_args=(), work_dir=None, sbatch_args=(), **kwargs):
        if engine_launcher_class is None and isinstance(kwargs.get("engines"), str):
            engine_launcher_class = kwargs["engines"]  # ipyparallel 8 spelling: Cluster(engines="slurm")
        self.n = n if n is not None else (os.cpu_count() or 1)
        self.profile = profile or "default"
        if cluster_id is None:
            cluster_id = f"{int(time.time())}-{''.join(random.choices(string.ascii_lowercase, k=4))}"
        self.cluster_id = cluster_id
        self.engine_launcher_class = _launcher_name(engine_launcher_class)
        self.launcher = "slurm" if self.engine_launcher_class in _SLURM_LAUNCHERS else "local"
        self.sbatch_args = list(sbatch_args)
        if self.sbatch_args and self.launcher != "slurm":
            raise ValueError(f"sbatch_args={self.sbatch_args!r} apply to Slurm engines only: add engines='slurm'")
        self.controller_ip = controller_ip or "127.0.0.1"
        self.controller_location = controller_location
        self.db = db
        self.log_level = log_level
        self.engine_timeout = engine_timeout
        self.mpi_args = list(mpi_args)
        self.work_dir = work_dir or os.getcwd()
        self._proc = None
        self._client = None

    @property
    def cluster_file(self):
        return _files.client_file(self.profile, self.cluster_id)

    def __repr__(self):
        state = "running" if self._proc is not None and self._proc.poll() is None else "stopped"
        return f"<Cluster(cluster_id={self.cluster_id!r}, profile={self.profile!r}, n={self.n}, {state})>"

    # ---- synchronous API ---------------------------------------------------------------------------------------

    def start_cluster_sync(self, n=None):
        """Starts the controller and ``n`` engines; returns once the controller is listening."""
        if n is not None:
            self.n = n
        if self._proc is not None and self._proc.poll() is None:
            raise RuntimeError(f"cluster {self.cluster_id!r} is already running")
        _launch.refuse_if_running(self.profile, self.cluster_id, "stop it or pick another cluster_id")
        self._log_path = _files.log_file(self.profile, self.cluster_id, "controller")
        self._proc = _launch.start_controller(self.n, self.profile, self.cluster_id, self.controller_ip, self.db,
                                              self.work_dir, self.controller_location, self.mpi_args,
                                              log_path=self._log_path, log_level=self.log_level,
                                              launcher=self.launcher, sbatch_args=self.sbatch_args)
        try:
            _launch.wait_for_controller(self._proc, self.cluster_file, 30)
        except (RuntimeError, TimeoutError) as e:
            self._terminate()
            raise type(e)(f"{e}:\n" + self._tail_log()) from None
        return self

    def _tail_log(self, lines=30):
        try:
            with open(self._log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def connect_client_sync(self, **kwargs):
        """A Client connected to this cluster."""
        kwargs.setdefault("timeout", 30)
        client = Client(url_file=self.cluster_file, profile=self.profile, cluster_id=self.cluster_id, **kwargs)
        self._client = client
        return client

    def start_and_connect_sync(self, n=None, activate=False):
        """Starts the cluster, connects a Client and waits for all engines; returns the Client."""
        self.start_cluster_sync(n)
        client = self.connect_client_sync()
        try:
            client.wait_for_engines(self.n, timeout=self.engine_timeout)
        except TimeoutError as e:
            job = _slurm.recorded_job(self.cluster_file)
            state = f"; {_slurm.describe_job(job)}" if job else ""
            self.stop_cluster_sync()
            raise TimeoutError(f"{e}{state}; engines' log: {_files.log_file(self.profile, self.cluster_id, 'engines')}") from None
        except error.EngineError as e:
            # the engines' job failed before all registered (no Python, a crash at import ...): say why, leave nothing
            why = _ranks_reasons(_files.log_file(self.profile, self.cluster_id, "engines"))
            self.stop_cluster_sync()
            raise error.EngineError(f"{e}\nfrom the engines' log:\n{why}") from None
        if activate:
            client.activate()
        return client

    def stop_engines_sync(self, engine_set_id=None):
        """Stops the engines (the controller keeps running)."""
        if self._client is None:
            self.connect_client_sync()
        self._client._ask("shutdown", targets=self._client.ids)

    def restart_engines_sync(self, engine_set_id=None):
        """Stops and starts the engines (new processes, empty namespaces); waits for them to register."""
        client = self._client or self.connect_client_sync()
        own = set(range(self.n))  # the engines this cluster started have their ranks as ids; joined ones keep theirs
        joined = len(set(client.ids) - own)
        client._ask("restart_engines")
        deadline = time.monotonic() + self.engine_timeout
        # the old engines first disappear, then the new ones register
        while time.monotonic() < deadline and own & set(client.ids):
            time.sleep(0.02)
        client.wait_for_engines(joined + self.n, timeout=max(1, deadline - time.monotonic()))

    def stop_cluster_sync(self):
        """Stops the engines and the controller; no process of the cluster is left afterwards."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._terminate()

    def _terminate(self):
        if self._proc is not None:
            job = _slurm.recorded_job(self.cluster_file)
            _launch.stop_controller(self._proc)
            if job:
                _slurm.cancel(job)  # the controller cancels it on the way out; not if it had to be killed
            self._proc = None

    # ---- asyncio API -------------------------------------------------------------------------------------------

    async def start_cluster(self, n=None):
        return await asyncio.get_running_loop().run_in_executor(None, self.start_cluster_sync, n)

    async def start_and_connect(self, n=None, activate=False):
        return await asyncio.get_running_loop().run_in_executor(None, self.start_and_connect_sync, n, activate)

    async def connect_client(self, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(None, lambda: self.connect_client_sync(**kwargs))

    async def stop_cluster(self):
        return await asyncio.get_running_loop().run_in_executor(None, self.stop_cluster_sync)

    async def restart_engines(self, engine_set_id=None):
        return await asyncio.get_running_loop().run_in_executor(None, self.restart_engines_sync)

    async def stop_engines(self, engine_set_id=None):
        return await asyncio.get_running_loop().run_in_executor(None, self.stop_engines_sync)

    # ---- context managers --------------------------------------------------------------------------------------

    def __enter__(self):
        return self.start_and_connect_sync()

    def __exit__(self, *exc):
        self.stop_cluster_sync()

    async def __aenter__(self):
        return await self.start_and_connect()

    async def __aexit__(self, *exc):
        await self.stop_cluster()

    def __del__(self):
        try:
            if self._proc is not None and self._proc.poll() is None:
                self.stop_cluster_sync()
        except Exception:
            pass


class ClusterManager:
    """The clusters whose connection files exist (``./pympi cluster list`` in Python)."""

    def load_clusters(self):
        out = {}
        for profile, cluster_id, data, alive in _files.list_clusters():
            if alive:
                c = Cluster(n=data.get("n"), profile=profile, cluster_id=cluster_id)
                out[f"{profile}:{cluster_id}"] = c
        return out


def _ranks_reasons(path, most=12):
    """What the ranks said in the engines' log (their lines are tagged ``[rank N]``; the same message from every rank
    once), else its last lines: MPI's own abort banner comes after the reason and says nothing about it."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return "(no log)"
    seen, said = set(), []
    for line in lines:
        if line.startswith("[rank "):
            text = line.split("]", 1)[1].strip()
            if text not in seen:
                seen.add(text)
                said.append(line)
    return "\n".join(said[:most] or lines[-8:])
