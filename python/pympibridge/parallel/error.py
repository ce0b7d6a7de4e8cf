"""Errors with ipyparallel's names and hierarchy, so ``except ipp.RemoteError`` keeps working after the import swap."""

import traceback as _traceback


class IPythonError(Exception):
    """Base of every error this package raises for remote work."""


class KernelError(IPythonError):
    pass


class EngineError(KernelError):
    """An engine died or became unreachable while it had this task."""


class NoEnginesRegistered(KernelError):
    """No engine is registered (yet) with the controller."""

    def __str__(self):
        return ("This operation requires engines. Try client.wait_for_engines(n) to wait for engines to register, "
                "or start some with ipp.Cluster(n=...).start_cluster_sync() / './pympi cluster start -n N'.")


class TaskAborted(KernelError):
    """The task was aborted before it ran."""


class TaskTimeout(KernelError):
    """The task did not start within its ``timeout``."""


class UnmetDependency(KernelError):
    pass


class ImpossibleDependency(UnmetDependency):
    """No engine can ever run the task (its dependencies failed, or every engine was tried)."""


class DependencyTimeout(ImpossibleDependency):
    pass


class InvalidDependency(ImpossibleDependency):
    pass


class TaskRejectError(KernelError):
    """Raise this in a task to ask the scheduler to run it on another engine (with ``retries``)."""


class RemoteError(KernelError):
    """An exception raised by user code on an engine. ``ename``, ``evalue`` and ``traceback`` describe it."""

    ename = None
    evalue = None
    traceback = None
    engine_info = None

    def __init__(self, ename, evalue, traceback, engine_info=None):
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        self.engine_info = engine_info or {}
        self.args = (ename, evalue)

    def __repr__(self):
        return f"<{self.__class__.__name__}[{self.engine_info.get('engine_id', ' ')}]:{self.ename}({self.evalue})>"

    def __str__(self):
        return f"{self._get_engine_str(self.engine_info)} {self.ename}: {self.evalue}"

    @staticmethod
    def _get_engine_str(engine_info):
        if not engine_info:
            return "[Engine Exception]"
        return f"[{engine_info.get('engine_id')}:{engine_info.get('method')}]"

    def render_traceback(self):
        return [self._get_engine_str(self.engine_info)] + (self.traceback or "No traceback available").splitlines()

    def _render_traceback_(self):
        # IPython shows this instead of the local traceback
        return self.render_traceback()

    def print_traceback(self, excid=None):
        print("\n".join(self.render_traceback()))


class CompositeError(RemoteError):
    """Errors from several engines (or several tasks) at once. ``elist`` holds (ename, evalue, traceback, info)."""

    tb_limit = 4

    def __init__(self, message, elist):
        Exception.__init__(self, message, elist)
        self.msg = message
        self.elist = elist
        self.args = [e[0] for e in elist]

    def __str__(self):
        s = str(self.msg)
        for en, ev, _etb, ei in self.elist[: self.tb_limit]:
            s += "\n" + self._get_engine_str(ei) + " " + en + ": " + str(ev)
        if len(self.elist) > self.tb_limit:
            s += f"\n.... {len(self.elist) - self.tb_limit} more exceptions ..."
        return s

    def __repr__(self):
        return f"CompositeError({len(self.elist)})"

    def render_traceback(self, excid=None):
        lines = []
        chosen = self.elist[: self.tb_limit] if excid is None else [self._one(excid)]
        for en, ev, etb, ei in chosen:
            lines.append(self._get_engine_str(ei) + ":")
            lines.extend((etb or "No traceback available").splitlines())
            lines.append("")
        if excid is None and len(self.elist) > self.tb_limit:
            lines.append(f"... {len(self.elist) - self.tb_limit} more exceptions ...")
        return lines

    def print_traceback(self, excid=None):
        print("\n".join(self.render_traceback(excid)))

    def _one(self, excid):
        try:
            return self.elist[excid]
        except IndexError:
            raise IndexError(f"an exception with index {excid} does not exist") from None

    def raise_exception(self, excid=0):
        en, ev, etb, ei = self._one(excid)
        raise RemoteError(en, ev, etb, ei)


def collect_exceptions(results, method="unspecified"):
    """Raises a CompositeError if any result is a RemoteError; passes the results through otherwise."""
    elist = []
    for r in (results.values() if isinstance(results, dict) else results):
        if isinstance(r, CompositeError):
            elist.extend(r.elist)
        elif isinstance(r, RemoteError):
            elist.append((r.ename, r.evalue, r.traceback, r.engine_info))
    if elist:
        raise CompositeError(f"one or more exceptions raised in: {method}", elist)
    return results


def wrap_exception(engine_info, hide_file=None):
    """The current exception as the plain dict that travels back to the client; frames of ``hide_file`` (the engine's
    own code) are left out, so the user sees their code as ipyparallel shows it."""
    import sys
    etype, evalue, tb = sys.exc_info()
    while tb is not None and hide_file is not None and tb.tb_frame.f_code.co_filename == hide_file:
        tb = tb.tb_next
    return {
        "status": "error",
        "ename": etype.__name__,
        "evalue": str(evalue),
        "traceback": "".join(_traceback.format_exception(etype, evalue, tb)),
        "engine_info": engine_info,
    }


def unwrap_exception(content):
    ename = content.get("ename")
    cls = _LOCAL_KINDS.get(ename)
    if cls is not None and content.get("local"):
        err = cls(content.get("evalue", ""))
        err.engine_info = content.get("engine_info", {})
        return err
    return RemoteError(ename, content.get("evalue"), content.get("traceback"), content.get("engine_info", {}))


_LOCAL_KINDS = {c.__name__: c for c in (EngineError, TaskAborted, TaskTimeout, ImpossibleDependency,
                                         UnmetDependency, DependencyTimeout, InvalidDependency)}
