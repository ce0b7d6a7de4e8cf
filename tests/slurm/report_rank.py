"""Run by the Slurm tests on every rank: one JSON line telling what MPI and Slurm gave this rank."""
import json
import os
import socket

from mpi4py import MPI

world = MPI.COMM_WORLD
keys = ("SLURM_JOB_ID", "SLURM_STEP_NUM_TASKS", "SLURM_MPI_TYPE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")
report = {"rank": world.Get_rank(), "size": world.Get_size(), "host": socket.gethostname(),
          "library": MPI.Get_library_version().split(",")[0].strip(),
          "ranks_summed": world.allreduce(1),  # a collective over the world: all of it took part
          **{k: os.environ.get(k) for k in keys}}
print("REPORT " + json.dumps(report), flush=True)
