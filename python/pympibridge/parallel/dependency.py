"""Task dependencies for load-balanced views (``after``/``follow``), and the ``@depend``/``@require`` decorators.

``after``: the task starts only when these tasks have finished (successfully, or failed, as ``success``/``failure``
say). ``follow``: the task runs on an engine where these tasks ran. A dependency that can no longer be met fails the
task with ImpossibleDependency instead of leaving it queued forever.
"""

import functools

from .asyncresult import AsyncResult


class Dependency(set):
    """A set of msg_ids with a policy: ``all`` (every one) or any one; ``success``/``failure`` which outcomes count."""

    def __init__(self, dependencies=(), all=True, success=True, failure=False):  # noqa: A002 - ipyparallel's name
        ids = []
        if isinstance(dependencies, (AsyncResult, str)):
            dependencies = [dependencies]
        for d in dependencies:
            if isinstance(d, AsyncResult):
                ids.extend(d.msg_ids)
            elif isinstance(d, Dependency):
                ids.extend(d)
            elif isinstance(d, str):
                ids.append(d)
            else:
                raise TypeError(f"a dependency is an AsyncResult or a msg_id, got {type(d).__name__}")
        super().__init__(ids)
        self.all = all
        if not (success or failure):
            raise ValueError("a dependency must be met by success, failure, or both")
        self.success = success
        self.failure = failure

    def _outcomes(self, done_ok, done_failed):
        met, impossible, pending = 0, 0, 0
        for m in self:
            if m in done_ok:
                met += self.success
                impossible += not self.success
            elif m in done_failed:
                met += self.failure
                impossible += not self.failure
            else:
                pending += 1
        return met, impossible, pending

    def state(self, client):
        """'met', 'pending' or 'impossible' for this client's view of the tasks."""
        if not self:
            return "met"
        # The balancer runs in this client and learns only of its own tasks finishing: a msg_id it never submitted
        # (a typo, another client's task) would keep the task waiting forever, so it can never be met.
        prefix = client.session + "_"
        if any(not m.startswith(prefix) and m not in client._done_ok and m not in client._done_failed
               for m in self):
            return "invalid"
        return self._state(client._done_ok, client._done_failed)

    def check(self, completed, failed=None):
        """ipyparallel's API: is the dependency met, given the msg_ids that succeeded and that failed?"""
        return self._state(set(completed), set(failed or ())) == "met"

    def unreachable(self, completed, failed=None):
        """ipyparallel's API: can the dependency never be met, given the msg_ids that succeeded and failed?"""
        return self._state(set(completed), set(failed or ())) == "impossible"

    def _state(self, done_ok, done_failed):
        if not self:
            return "met"
        met, impossible, pending = self._outcomes(done_ok, done_failed)
        if self.all:
            if impossible:
                return "impossible"
            return "met" if pending == 0 else "pending"
        if met:
            return "met"
        return "impossible" if pending == 0 else "pending"

    def _engines_of(self, client):
        return {client._raw_md[m][1] for m in self if m in client._raw_md}

    def engine_ok(self, client, eid):
        """For ``follow``: may the task run on ``eid`` now?"""
        if not self:
            return True
        engines = self._engines_of(client)
        if self.all:
            return engines == {eid}  # every followed task ran on this engine (and not on another)
        return eid in engines

    def engine_possible(self, client, eid):
        if not self:
            return True
        engines = self._engines_of(client)
        if self.all and len(engines) > 1:
            return False  # tasks that ran on different engines cannot all be followed
        return eid in engines

    def as_dict(self):
        return {"dependencies": list(self), "all": self.all, "success": self.success, "failure": self.failure}


def make_dependency(dep):
    if dep is None or isinstance(dep, Dependency):
        return dep if dep else None
    d = Dependency(dep)
    return d if d else None


def require(*objects, **mapping):
    """Runs ``import`` of these modules (or pushes these objects) on the engine before the function runs."""
    names, values = [], dict(mapping)
    for obj in objects:
        if isinstance(obj, str):
            names.append(obj)
        elif hasattr(obj, "__name__") and type(obj).__name__ == "module":
            names.append(obj.__name__)
        elif hasattr(obj, "__name__"):
            values[obj.__name__] = obj
        else:
            raise TypeError(f"require() takes modules, module names or named objects, got {obj!r}")

    def decorate(f):
        @functools.wraps(f)
        def with_requirements(*args, **kwargs):
            import importlib
            g = f.__globals__
            for name in names:
                module = importlib.import_module(name)
                g[name.split(".")[0]] = importlib.import_module(name.split(".")[0]) if "." in name else module
            g.update(values)
            return f(*args, **kwargs)
        with_requirements.__module__ = "__main__"
        return with_requirements
    return decorate


def depend(f, *args, **kwargs):
    """Runs ``f(*args, **kwargs)`` on the engine first; the task runs there only if it returns true (otherwise it
    raises UnmetDependency, which a load-balanced view with ``retries`` sends to another engine)."""
    def decorate(g):
        @functools.wraps(g)
        def guarded(*a, **kw):
            from pympibridge.parallel.error import UnmetDependency
            if not f(*args, **kwargs):
                raise UnmetDependency(f"{getattr(f, '__name__', f)} is false on this engine")
            return g(*a, **kw)
        guarded.__module__ = "__main__"
        return guarded
    return decorate
