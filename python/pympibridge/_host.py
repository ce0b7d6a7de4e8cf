"""Binding to the host's builtin module ``_pympibridge`` (created by the C# side through the C API)."""

try:
    import _pympibridge as _native  # present only inside a PyMpiBridge rank
except ImportError:  # plain python: keep the module importable, explain on use
    _native = None

from mpi4py import MPI

in_host = _native is not None
"""True when this interpreter is embedded in a PyMpiBridge rank."""


def from_csharp_handle(fortran_handle):
    """The mpi4py communicator for a C# ``Comm`` given by its Fortran handle (``Comm.ToFortran()``).

    The communicator is shared, not copied: whoever created it frees it.
    """
    return MPI.Intracomm.f2py(int(fortran_handle))


def to_csharp_handle(comm):
    """The Fortran handle C# turns back into a ``Comm`` (``Comm.FromFortran``)."""
    if not isinstance(comm, MPI.Comm):
        raise TypeError(f"expected an mpi4py communicator, got {type(comm).__name__}")
    return comm.py2f()


world = from_csharp_handle(_native._world_f()) if in_host else MPI.COMM_WORLD
"""The world communicator shared with C#."""


class _CSharpFunctions:
    """Attribute access to the C# functions the host exported (``csharp.step(world, arr)``)."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if _native is None:
            raise RuntimeError(
                f"csharp.{name}: C# functions exist only inside a PyMpiBridge rank. "
                "Run this script with './pympi run -n N script.py' (or from a C# host), not plain python.")
        try:
            return getattr(_native, name)
        except AttributeError:
            exported = ", ".join(self.__dir__()) or "none"
            raise AttributeError(
                f"no C# function named '{name}' is exported to Python (exported: {exported}). "
                "Export it from C# with [PythonExport] or session.Export(...), or load an assembly "
                "with csharp.load('path/to/Kernels.dll').") from None

    def load(self, assembly_path):
        """Loads a .NET assembly and exports its [PythonExport] static methods; returns their names."""
        if _native is None:
            raise RuntimeError("csharp.load needs a PyMpiBridge rank: run with './pympi run'.")
        return list(_native._load_assembly(str(assembly_path)))

    def __dir__(self):
        return sorted(n for n in (dir(_native) if _native else []) if not n.startswith("_"))

    def __repr__(self):
        return f"<C# functions: {', '.join(self.__dir__()) or 'none'}>"


csharp = _CSharpFunctions()
