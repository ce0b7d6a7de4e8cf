"""The Python face of PyMpiBridge.

Inside a rank hosted by PyMpiBridge (``./pympi run`` or a C# program that started a rank session),
C# and Python share one initialized MPI and the same communicators::

    from pympibridge import world, csharp
    csharp.step(world, arr)        # a C# function, called with an mpi4py communicator and a numpy array

``world`` is an ``mpi4py.MPI.Intracomm`` over the same MPI_COMM_WORLD handle the C# side uses.
Outside the host (plain ``mpiexec python3``) ``world`` is simply ``MPI.COMM_WORLD`` and ``csharp``
explains how to get C# functions, so a migrating script can import this module unconditionally.
"""

__all__ = ["in_host", "world", "csharp", "to_csharp_handle", "from_csharp_handle"]


def __getattr__(name):
    # Imported lazily (PEP 562) so that the host's own helpers (pympibridge._runner) load without mpi4py.
    if name in __all__:
        from . import _host
        return getattr(_host, name)
    raise AttributeError(f"module 'pympibridge' has no attribute '{name}'")


def __dir__():
    return sorted(__all__)
