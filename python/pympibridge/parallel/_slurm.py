"""Engines as a Slurm job, as ipyparallel's ``SlurmEngineSetLauncher`` starts them.

The controller writes a batch script that runs ``pympi run -n N -m pympibridge.parallel._engine FILE`` (inside the
allocation ``pympi run`` starts one rank per task, through Open MPI's mpiexec, which reads the allocation), submits it
with ``sbatch``, and from then on treats the job as it treats a local engine process: it waits for it (polling
``scontrol``, as Slurm tells no one when a job ends), signals it (``scancel --signal``) and ends it (``scancel``). The
job id goes into the connection files, so ``pympi cluster stop`` cancels the job even when the controller is gone.
"""

import os
import re
import shlex
import shutil
import socket
import subprocess
import time

# the job states after which a job runs no more (squeue(1) "JOB STATE CODES")
FINISHED_STATES = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
                   "PREEMPTED", "REVOKED", "SPECIAL_EXIT", "TIMEOUT"}


def require_commands():
    """Raises RuntimeError, saying what to install, unless sbatch, scancel and scontrol are on PATH."""
    missing = [c for c in ("sbatch", "scancel", "scontrol") if shutil.which(c) is None]
    if missing:
        raise RuntimeError(f"--launcher slurm needs Slurm's {', '.join(missing)} on PATH: run on a host of the Slurm "
                           "cluster (a login node), or install the client (apt-get install slurm-client)")


def sbatch_command(n, job_name, output, workdir, script, sbatch_args=()):
    """``sbatch`` submitting ``script`` as an ``n``-task job. The job's options go on the command line, not in
    ``#SBATCH`` lines, where a path with a space would be cut; the user's ``sbatch_args`` come last, so they win."""
    return ["sbatch", "--parsable", f"--job-name={job_name}", f"--ntasks={n}", f"--output={output}",
            "--open-mode=append", f"--chdir={workdir}", "--export=ALL", *sbatch_args, script]


def batch_script(command):
    """The batch script: ``command`` (a list of words) in place of the shell, so a signal to the script reaches it."""
    return "#!/bin/sh\n# the engines of a pympibridge cluster, submitted by its controller\nexec " + shlex.join(command) + "\n"


def parse_job_id(sbatch_output):
    """The job id from ``sbatch --parsable`` output (``id`` or ``id;cluster``)."""
    m = re.match(r"\s*(\d+)", sbatch_output)
    if m is None:
        raise RuntimeError(f"sbatch printed no job id: {sbatch_output.strip()!r}")
    return m.group(1)


def parse_job_record(scontrol_line):
    """The fields of one ``scontrol show job -o`` line as a dict (``JobState``, ``ExitCode``, ``Reason``, ``NodeList`` ...)."""
    return dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", scontrol_line))


def exit_code(record):
    """A finished job's exit code as a process's: ``ExitCode=2:0`` → 2, killed by signal 9 (``0:9``) → -9."""
    code, _, sig = record.get("ExitCode", "0:0").partition(":")
    try:
        code, sig = int(code), int(sig or 0)
    except ValueError:
        return 1
    return -sig if sig else code


def job_record(job_id):
    """``scontrol show job`` of ``job_id`` as a dict; None once Slurm no longer knows the job (MinJobAge after its end)."""
    try:
        out = subprocess.run(["scontrol", "show", "job", "-o", str(job_id)], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}  # the controller did not answer: the job's state is unknown, not ended
    if out.returncode != 0:
        return None if "Invalid job id" in out.stderr else {}
    return parse_job_record(out.stdout)


def describe_job(job_id):
    """One phrase for messages: ``Slurm job 42 is PENDING (Resources)``."""
    record = job_record(job_id)
    if record is None:
        return f"Slurm job {job_id} has ended"
    if not record:
        return f"Slurm job {job_id}: state unknown (scontrol did not answer)"
    reason = record.get("Reason", "None")
    return (f"Slurm job {job_id} is {record.get('JobState', '?')}" + (f" ({reason})" if reason not in ("None", "") else "")
            + (f" on {record['NodeList']}" if record.get("NodeList") not in (None, "", "(null)") else ""))


def cancel(job_id, signal_name=None):
    """``scancel [--signal=NAME --full] job_id``; an already ended job is no error."""
    cmd = ["scancel"] + ([f"--signal={signal_name}", "--full"] if signal_name else []) + [str(job_id)]
    try:
        subprocess.run(cmd, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        pass


class SlurmEngines:
    """The engines' job, with the part of ``subprocess.Popen`` the controller uses: ``wait``, ``poll``, ``returncode``,
    ``signal_all`` (local engines are a ``_launch.LocalEngines``)."""

    poll_interval = 1.0

    def __init__(self, job_id, script_path):
        self.job_id = job_id
        self.script_path = script_path
        self.returncode = None
        self.pid = None
        self.node_list = None

    @classmethod
    def submit(cls, n, command, workdir, env, output, script_path, job_name, sbatch_args=()):
        """Writes the batch script to ``script_path`` and submits it; raises RuntimeError with sbatch's words if refused."""
        require_commands()
        with open(script_path, "w") as f:
            f.write(batch_script(command))
        submit = sbatch_command(n, job_name, output, workdir, script_path, sbatch_args)
        out = subprocess.run(submit, env=env, cwd=workdir, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"sbatch refused the engines' job ({shlex.join(submit)}): "
                               f"{out.stderr.strip() or out.stdout.strip()}")
        return cls(parse_job_id(out.stdout), script_path)

    def poll(self):
        if self.returncode is not None:
            return self.returncode
        record = job_record(self.job_id)
        if record is None:
            self.returncode = 1  # Slurm forgot the job (MinJobAge) before we saw it end: its exit code is lost
        elif record.get("JobState") in FINISHED_STATES:
            self.returncode = exit_code(record)
        elif record.get("JobState") == "RUNNING":
            self.node_list = record.get("NodeList")
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"slurm job {self.job_id}", timeout)
            time.sleep(self.poll_interval if deadline is None else
                       max(0.05, min(self.poll_interval, deadline - time.monotonic())))
        return self.returncode

    def signal_all(self, sig):
        """SIGKILL cancels the job; other signals go to every process of it (the batch step and the ranks)."""
        import signal as _signal
        if sig == _signal.SIGKILL:
            cancel(self.job_id)
        else:
            cancel(self.job_id, _signal.Signals(sig).name.removeprefix("SIG"))

    def waiting_in_queue(self):
        """True while the job has not started (pending in Slurm's queue)."""
        return self.poll() is None and self.node_list is None

    def runs_elsewhere(self):
        """True once the job runs on nodes other than this host (then a loopback controller is out of the engines' reach)."""
        nodes = self.node_list
        return bool(nodes) and nodes not in (socket.gethostname(), socket.gethostname().split(".")[0])

    def describe(self):
        return f"Slurm job {self.job_id} (batch script {self.script_path})"


def recorded_job(connection_file):
    """The engines' job id a controller wrote into its connection file; None when there is none (or no file)."""
    import json
    try:
        with open(connection_file) as f:
            return json.load(f).get("slurm_job")
    except (OSError, ValueError):
        return None


def job_name(profile, cluster_id):
    return f"pympi-engines-{profile}" + (f"-{cluster_id}" if cluster_id else "")


def script_path(profile_dir, cluster_id):
    return os.path.join(profile_dir, f"engines-{cluster_id or 'default'}.sbatch")
