"""pympi run and mixed C#/Python jobs inside Slurm allocations (salloc, sbatch, srun), and the launcher checks that make
a wrongly started rank fail loudly instead of running alone."""

import json
import re

import pytest

from conftest import PYMPI, ROOT, describe, run


def reports(stdout):
    return [json.loads(line.split("REPORT ", 1)[1]) for line in stdout.splitlines() if "REPORT " in line]


def granted_job(stderr):
    m = re.search(r"Granted job allocation (\d+)", stderr)
    assert m, stderr
    return m.group(1)


@pytest.mark.timeout(150)
def test_salloc_pympi_run_without_n_starts_one_rank_per_task_of_the_allocation(slurm_env):
    r = run(["salloc", "-n", "4", PYMPI, "run", "tests/slurm/report_rank.py"], slurm_env)
    assert r.returncode == 0, describe(r)
    ranks = reports(r.stdout)
    job = granted_job(r.stderr)
    assert sorted(x["rank"] for x in ranks) == [0, 1, 2, 3], describe(r)
    assert {(x["size"], x["ranks_summed"], x["OMPI_COMM_WORLD_SIZE"], x["SLURM_JOB_ID"]) for x in ranks} == {(4, 4, "4", job)}
    assert {x["library"] for x in ranks} == {"Open MPI v4.1.4"}


@pytest.mark.timeout(150)
def test_salloc_pympi_run_with_srun_launcher_makes_the_ranks_one_pmix_job_step(slurm_env):
    r = run(["salloc", "-n", "4", PYMPI, "run", "--launcher", "srun", "tests/slurm/report_rank.py"], slurm_env)
    assert r.returncode == 0, describe(r)
    ranks = reports(r.stdout)
    job = granted_job(r.stderr)
    assert sorted(x["rank"] for x in ranks) == [0, 1, 2, 3], describe(r)
    for x in ranks:
        assert (x["size"], x["ranks_summed"], x["SLURM_JOB_ID"], x["SLURM_STEP_NUM_TASKS"], x["SLURM_MPI_TYPE"]) == \
            (4, 4, job, "4", "pmix"), x
        assert x["PMIX_RANK"] == str(x["rank"]) and x["OMPI_COMM_WORLD_SIZE"] is None


@pytest.mark.timeout(150)
@pytest.mark.parametrize("launcher, started_by", [("mpiexec", "a PMI launcher"), ("srun", "srun --mpi=pmi2")])
def test_salloc_pympi_run_on_mpich_loads_mpich_under_its_launcher(slurm_env, launcher, started_by):
    # hydra inside the allocation starts its proxies with srun; srun --mpi=pmi2 starts the ranks itself
    env = dict(slurm_env, PYMPI_LOG_LEVEL="Information")
    r = run(["salloc", "-n", "2", PYMPI, "run", "--mpi", "mpich", "--launcher", launcher, "-c", "print('ran')"], env)
    assert r.returncode == 0, describe(r)
    assert r.stdout.count("ran") == 2, describe(r)
    up = re.findall(r"MPI up: libmpich\.so\.12 \(MPICH 4[\d.]*, Mpich ABI\), started by ([^,]+(?:\([^)]*\))?), rank (\d) of 2",
                    r.stderr)
    assert sorted(rank for _, rank in up) == ["0", "1"], describe(r)
    assert all(launcher_words.startswith(started_by) for launcher_words, _ in up), up


@pytest.mark.timeout(150)
def test_salloc_pympi_run_beyond_the_allocation_is_refused_by_its_slots(slurm_env):
    r = run(["salloc", "-n", "2", PYMPI, "run", "-n", "3", "tests/slurm/report_rank.py"], slurm_env)
    assert r.returncode != 0, describe(r)
    assert "not enough slots" in r.stdout + r.stderr and not reports(r.stdout), describe(r)


@pytest.mark.timeout(120)
def test_srun_direct_launch_of_pympi_run_makes_each_task_one_rank(slurm_env):
    r = run(["srun", "-n", "2", "--mpi=pmix", PYMPI, "run", "tests/slurm/report_rank.py"], slurm_env)
    assert r.returncode == 0, describe(r)
    ranks = reports(r.stdout)
    assert sorted((x["rank"], x["size"], x["ranks_summed"]) for x in ranks) == [(0, 2, 2), (1, 2, 2)], describe(r)


@pytest.mark.timeout(120)
def test_srun_pmix_with_an_mpich_library_stops_every_task_saying_what_to_set(slurm_env):
    # MPICH does not speak PMIx: without the check each task would run as a 1-rank world and "succeed" twice
    env = dict(slurm_env, PYMPI_MPI_LIBRARY="libmpich.so.12")
    r = run(["srun", "-n", "2", "--mpi=pmix", PYMPI, "run", "-c", "print('ran alone')"], env)
    assert r.returncode != 0, describe(r)
    assert "ran alone" not in r.stdout, describe(r)
    assert r.stderr.count("srun --mpi=pmix started this process as one of 2 ranks") == 2, describe(r)
    assert "libmpich.so.12 (MPICH 4" in r.stderr and "chosen by PYMPI_MPI_LIBRARY" in r.stderr, describe(r)
    assert "Set PYMPI_MPI_LIBRARY to the library this launcher serves" in r.stderr, describe(r)


@pytest.mark.timeout(120)
def test_srun_without_mpi_plugin_is_refused_before_any_library_loads(slurm_env):
    r = run(["srun", "-n", "2", "--mpi=none", PYMPI, "run", "-c", "print('ran alone')"], slurm_env)
    assert r.returncode != 0 and "ran alone" not in r.stdout, describe(r)
    assert "srun --mpi=none started this process as one of 2 tasks" in r.stderr, describe(r)
    assert "'srun --mpi=pmix' (Open MPI) or 'srun --mpi=pmi2'" in r.stderr, describe(r)


@pytest.mark.timeout(120)
def test_pympi_run_with_n_inside_an_srun_step_is_refused(slurm_env):
    r = run(["srun", "-n", "2", "--mpi=pmix", PYMPI, "run", "-n", "2", "tests/slurm/report_rank.py"], slurm_env)
    assert r.returncode != 0 and not reports(r.stdout), describe(r)
    assert "-n 2 does not apply inside an srun step" in r.stderr, describe(r)


@pytest.mark.timeout(420)  # a hang guard: it took 74 s on the shared, heavily loaded 2-core machine
def test_sbatch_mixed_csharp_python_job_under_both_mpis(slurm_env, tmp_path):
    """One batch job: Python calling a C# kernel (pympi run, mpiexec inside the allocation), a C# host embedding Python
    (MixedDemo, direct-launched by srun over PMIx), and a C# program on MPICH (srun over PMI-2)."""
    out = tmp_path / "job.out"
    script = tmp_path / "mixed.sbatch"
    script.write_text(f"""#!/bin/bash
set -euo pipefail
cd {ROOT}
echo "== heat"
./pympi run examples/python/heat_with_csharp_kernel.py 200 50
echo "== mixed demo"
TERM=dumb srun --mpi=pmix dotnet artifacts/bin/MixedDemo/release/MixedDemo.dll
echo "== sweep on mpich"
TERM=dumb srun --mpi=pmi2 -n 2 dotnet artifacts/bin/ParameterSweep/release/ParameterSweep.dll
echo "== done"
""")
    r = run(["sbatch", "--wait", "-n", "4", f"--output={out}", str(script)], slurm_env, timeout=400)
    text = out.read_text() if out.exists() else "(no output file)"
    assert r.returncode == 0, describe(r) + "\n--- job output ---\n" + text
    heat = text.split("== heat", 1)[1].split("== mixed demo", 1)[0]
    demo = text.split("== mixed demo", 1)[1].split("== sweep on mpich", 1)[0]
    sweep = text.split("== sweep on mpich", 1)[1]
    assert "ranks=4 cells=800 steps=50" in heat and "heat conserved" in heat, text
    before, after = re.search(r"heat conserved: ([\d.]+) -> ([\d.]+)", heat).groups()
    assert abs(float(before) - float(after)) < 1e-6 * float(before), heat
    assert "PyMpiBridge demo: 4 ranks" in demo and "one MPI (OpenMpi)" in demo, text
    assert "total steps via C# Allreduce = 96,000, via mpi4py allreduce = 96,000" in demo, text
    assert "(matches its row above: True)" in demo, text
    assert "MPI: Mpich (libmpich.so.12), 2 ranks" in sweep, text
    gathered = re.search(r"Jobs gathered: (\d+)/(\d+)", sweep)
    assert gathered and gathered.group(1) == gathered.group(2), text
    assert "== done" in text
