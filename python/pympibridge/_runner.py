"""Runs a rank's Python program as ``__main__``, the way the ``python`` command would.

Used by the host (``./pympi run``): returns ``(exit_code, crashed)`` instead of raising, so the C# side decides
what a failure means for the whole job (an uncaught exception aborts every rank: no rank is left waiting).
"""

import os
import runpy
import sys
import traceback


def run(kind, value, argv, rank, mpi_library=""):
    _line_buffered()
    sys.argv[:] = list(argv)
    try:
        if kind == "script":
            path = os.path.abspath(value)
            sys.path.insert(0, os.path.dirname(path))
            runpy.run_path(path, run_name="__main__")
        elif kind == "module":
            sys.path.insert(0, os.getcwd())
            runpy.run_module(value, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, "")
            import __main__
            exec(compile(value, "<string>", "exec"), __main__.__dict__)
        return 0, False
    except SystemExit as e:
        return _exit_code(e.code), False
    except BaseException:
        _report(rank, mpi_library)
        return 1, True
    finally:
        _flush()


def _exit_code(code):
    """The process exit status ``python`` gives for ``sys.exit(code)``.

    None is 0; an int is converted as CPython does (C ``(int)PyLong_AsLong(code)``: the low 32 bits of a 64-bit long,
    -1 when it does not fit in one) and the OS keeps its low 8 bits (``sys.exit(256)`` is 0, ``sys.exit(-1)`` and
    ``sys.exit(2**70)`` are 255); anything else is printed to stderr and means 1.
    """
    if code is None:
        return 0
    if isinstance(code, int):
        if not -2**63 <= code < 2**63:
            return 255
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _report(rank, mpi_library):
    prefix = f"[rank {rank}] "
    text = traceback.format_exc().rstrip("\n")
    if _failed_inside_mpi4py_import():
        text += ("\nhint: mpi4py could not start on the MPI library this rank loaded "
                 f"({mpi_library or 'unknown'}). mpi4py must be built on the same MPI: run with the MPI it was "
                 "built on (Debian's is Open MPI: pympi run --mpi openmpi, the default; under srun, --mpi=pmix), "
                 "or set PYMPI_MPI_LIBRARY "
                 "to that library.")
    sys.stderr.write("".join(prefix + line + "\n" for line in text.split("\n")))
    sys.stderr.flush()


def _failed_inside_mpi4py_import():
    """True when the exception was raised while mpi4py.MPI itself was being initialized (a foreign MPI)."""
    if "mpi4py.MPI" in sys.modules:
        return False
    tb = sys.exc_info()[2]
    frames = traceback.extract_tb(tb) if tb is not None else []
    return any("mpi4py/MPI" in (frame.filename or "") for frame in frames)


def _line_buffered():
    # Ranks share one terminal: write whole lines as they come, so output interleaves by line, not by buffer.
    # write_through=False too: under PYTHONUNBUFFERED (which pympi run sets) print() otherwise writes the text and
    # its newline in two system calls, and another rank's line can land between them.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True, write_through=False)
        except (AttributeError, ValueError):
            pass


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
