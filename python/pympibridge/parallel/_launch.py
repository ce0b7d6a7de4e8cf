"""How a controller starts the engines: the ``pympi`` command, and an environment free of the caller's MPI job.

The engines are ``pympi run -n N -m pympibridge.parallel._engine``: an MPI job of PyMpiBridge ranks. The caller may
itself be an MPI process (a client script under ``./pympi run``, a singleton mpi4py program); the variables its MPI
set up for *it* would make the engines' ``mpiexec`` join the wrong job, so they are removed.
"""

import os
import re
import shlex
import shutil

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../pympibridge

# variables an MPI library sets for the process it launched (not the user's settings, which are kept)
_JOB_VARIABLES = re.compile(
    r"^(PMIX_|PMI_|HYDRA_|MPIR_|ORTE_|OMPI_COMM_WORLD_|OMPI_MCA_ess|OMPI_MCA_orte_|OMPI_MCA_pmix|"
    r"OMPI_MCA_initial_wdir$|OMPI_MCA_shmem_RUNTIME_QUERY_hint$|OMPI_APP_CTX_NUM_PROCS$|OMPI_NUM_APP_CTX$|"
    r"OMPI_ARGV$|OMPI_COMMAND$|OMPI_FILE_LOCATION$|OMPI_FIRST_RANKS$|OMPI_UNIVERSE_SIZE$|MPI_LOCALRANKID$|"
    r"MPI_LOCALNRANKS$)")


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


def engine_environment():
    env = {k: v for k, v in os.environ.items() if not _JOB_VARIABLES.match(k)}
    # the engines import this very package
    parent = os.path.dirname(_PACKAGE_DIR)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([parent] + paths)
    return env
