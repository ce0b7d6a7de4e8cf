"""ipyparallel's programming model on MPI engines: ``import pympibridge.parallel as ipp``.

Every engine is an MPI rank hosted by PyMpiBridge (a .NET process with CPython inside), so inside tasks
``MPI.COMM_WORLD`` is exactly the engines and C# functions are one call away (``pympibridge.csharp``)::

    import pympibridge.parallel as ipp
    with ipp.Cluster(n=4) as rc:
        view = rc[:]
        print(view.apply_sync(lambda: __import__("mpi4py.MPI").MPI.COMM_WORLD.Get_rank()))
"""

from ._serialize import Reference, interactive, use_cloudpickle, use_dill, use_pickle
from .asyncresult import AsyncHubResult, AsyncMapResult, AsyncResult, Metadata
from .client import Client
from .cluster import Cluster, ClusterManager
from .dependency import Dependency, depend, require
from .error import (CompositeError, EngineError, ImpossibleDependency, NoEnginesRegistered, RemoteError,
                    TaskAborted, TaskRejectError, TaskTimeout, UnmetDependency)
from .remotefunction import ParallelFunction, RemoteFunction, parallel, remote
from .view import BroadcastView, DirectView, LoadBalancedView, View

from . import error  # noqa: E402  (ipp.error.RemoteError, as in ipyparallel)

__all__ = [
    "AsyncHubResult", "AsyncMapResult", "AsyncResult", "BroadcastView", "Client", "Cluster", "ClusterManager",
    "CompositeError", "Dependency", "DirectView", "EngineError", "ImpossibleDependency", "LoadBalancedView",
    "Metadata", "NoEnginesRegistered", "ParallelFunction", "Reference", "RemoteError", "RemoteFunction",
    "TaskAborted", "TaskRejectError", "TaskTimeout", "UnmetDependency", "View", "depend", "error", "interactive",
    "parallel", "remote", "require", "use_cloudpickle", "use_dill", "use_pickle", "bind_kernel", "register_joblib_backend",
]


def bind_kernel(**kwargs):
    """ipyparallel binds an IPython kernel to an engine; our engines are not kernels, so this explains that."""
    raise NotImplementedError("pympibridge engines are MPI ranks, not IPython kernels: connect with ipp.Client() "
                              "and use %px / view.execute instead of binding a kernel")


def register_joblib_backend(name="ipyparallel", make_default=False):
    raise NotImplementedError("the joblib backend is not available in pympibridge.parallel yet")
