"""The Slurm engine launcher's parts that need no Slurm: the sbatch command and script, reading sbatch and scontrol, the
engines' environment, ipyparallel's launcher names, and following a job through stand-in Slurm commands. (A real
single-node Slurm runs the engines in tests/slurm.)"""

import os
import signal
import stat
import subprocess

import pytest

import pympibridge.parallel as ipp
from pympibridge.parallel import _launch, _slurm


def test_sbatch_command_puts_the_jobs_options_first_and_the_users_last_so_theirs_win():
    cmd = _slurm.sbatch_command(4, "pympi-engines-default", "/logs/engines.log", "/work dir", "/p/engines.sbatch",
                                ["--time=30", "--partition=debug"])
    assert cmd == ["sbatch", "--parsable", "--job-name=pympi-engines-default", "--ntasks=4",
                   "--output=/logs/engines.log", "--open-mode=append", "--chdir=/work dir", "--export=ALL",
                   "--time=30", "--partition=debug", "/p/engines.sbatch"]


def test_batch_script_execs_the_engines_command_with_its_words_quoted():
    script = _slurm.batch_script(["/opt/my pympi/pympi", "run", "-n", "4", "-m", "pympibridge.parallel._engine", "/s/e.json"])
    assert script.startswith("#!/bin/sh\n")
    assert script.endswith("\nexec '/opt/my pympi/pympi' run -n 4 -m pympibridge.parallel._engine /s/e.json\n")


@pytest.mark.parametrize("output, job", [("42\n", "42"), ("1234;cluster2\n", "1234")])
def test_parse_job_id_reads_parsable_output(output, job):
    assert _slurm.parse_job_id(output) == job


def test_parse_job_id_without_an_id_says_what_sbatch_printed():
    with pytest.raises(RuntimeError, match="sbatch printed no job id: 'sbatch: error: invalid partition'"):
        _slurm.parse_job_id("sbatch: error: invalid partition")


@pytest.mark.parametrize("field, code", [("0:0", 0), ("3:0", 3), ("0:9", -9), ("x:y", 1)])
def test_exit_code_of_a_finished_job_reads_like_a_processes(field, code):
    assert _slurm.exit_code({"ExitCode": field}) == code


def test_parse_job_record_reads_scontrol_one_liner():
    record = _slurm.parse_job_record("JobId=42 JobName=pympi-engines-default JobState=PENDING Reason=BeginTime "
                                     "ExitCode=0:0 NumTasks=4 NodeList=(null)")
    assert (record["JobState"], record["Reason"], record["NumTasks"], record["NodeList"]) == \
        ("PENDING", "BeginTime", "4", "(null)")


def test_engine_environment_drops_the_srun_step_keeps_the_allocation(monkeypatch):
    keep = {"SLURM_JOB_ID": "7", "SLURM_NTASKS": "4", "SLURM_TASKS_PER_NODE": "4", "SLURM_CONF": "/etc/slurm.conf"}
    drop = {"SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "2", "SLURM_PROCID": "1", "SLURM_MPI_TYPE": "pmix",
            "PMIX_RANK": "1", "PALS_RANKID": "1", "PMI_FD": "6"}
    for k, v in {**keep, **drop}.items():
        monkeypatch.setenv(k, v)
    env = _launch.engine_environment()
    assert {k: env.get(k) for k in keep} == keep
    assert not set(drop) & set(env)


@pytest.mark.parametrize("spelling", [dict(engines="slurm"), dict(engine_launcher_class="Slurm"),
                                      dict(engine_launcher_class="ipyparallel.cluster.launcher.SlurmEngineSetLauncher")])
def test_cluster_takes_ipyparallels_slurm_launcher_names(spelling):
    assert ipp.Cluster(n=2, **spelling).launcher == "slurm"
    assert ipp.Cluster(n=2).launcher == "local"


def test_cluster_refuses_batch_options_for_local_engines():
    with pytest.raises(ValueError, match="apply to Slurm engines only: add engines='slurm'"):
        ipp.Cluster(n=2, sbatch_args=["--time=5"])


def test_cluster_refuses_another_batch_system_naming_the_choices():
    with pytest.raises(ValueError, match="use 'MPI' .* or 'Slurm'"):
        ipp.Cluster(n=2, engine_launcher_class="PBS")


def test_require_commands_without_slurm_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"needs Slurm's sbatch, scancel, scontrol on PATH.*apt-get install slurm-client"):
        _slurm.require_commands()


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    """scontrol and scancel stand-ins: scontrol prints the line in ./job (or fails as for a forgotten job), scancel
    appends its words to ./scancel.log."""
    (tmp_path / "scontrol").write_text('#!/bin/sh\n[ -f "$(dirname "$0")/job" ] || { echo "slurm_load_jobs error: '
                                       'Invalid job id specified" >&2; exit 1; }\ncat "$(dirname "$0")/job"\n')
    (tmp_path / "scancel").write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/scancel.log"\n')
    for name in ("scontrol", "scancel"):
        (tmp_path / name).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    return tmp_path


def test_slurm_engines_follow_the_job_from_queue_to_its_exit_code(fake_slurm):
    job = _slurm.SlurmEngines("7", "/p/engines.sbatch")
    job.poll_interval = 0.05
    (fake_slurm / "job").write_text("JobId=7 JobState=PENDING Reason=Priority ExitCode=0:0 NodeList=(null)\n")
    assert job.poll() is None and job.waiting_in_queue()
    with pytest.raises(subprocess.TimeoutExpired):
        job.wait(0.2)
    (fake_slurm / "job").write_text("JobId=7 JobState=RUNNING Reason=None ExitCode=0:0 NodeList=node17\n")
    assert job.poll() is None and not job.waiting_in_queue()
    assert job.node_list == "node17" and job.runs_elsewhere()
    (fake_slurm / "job").write_text("JobId=7 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 NodeList=node17\n")
    assert job.wait(5) == 3


def test_slurm_engines_of_a_forgotten_job_have_ended(fake_slurm):
    assert _slurm.SlurmEngines("8", "/p/engines.sbatch").wait(5) == 1
    assert _slurm.describe_job("8") == "Slurm job 8 has ended"


def test_slurm_engines_signal_every_process_of_the_job_and_kill_cancels_it(fake_slurm):
    job = _slurm.SlurmEngines("9", "/p/engines.sbatch")
    job.signal_all(signal.SIGTERM)
    job.signal_all(signal.SIGKILL)
    assert (fake_slurm / "scancel.log").read_text().splitlines() == ["--signal=TERM --full 9", "9"]
