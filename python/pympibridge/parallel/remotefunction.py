"""``@view.remote`` and ``@view.parallel``: functions whose calls run on the engines."""

import functools

from .view import LoadBalancedView


class RemoteFunction:
    """Calling it applies the wrapped function on the view (blocking or not, as the view's flags say)."""

    def __init__(self, view, f, block=None, **flags):
        self.view = view
        self.func = f
        self.block = block
        self.flags = flags
        functools.update_wrapper(self, f)

    def __call__(self, *args, **kwargs):
        with self.view.temp_flags(**self.flags):
            ar = self.view.apply_async(self.func, *args, **kwargs)
        return ar.get() if (self.view.block if self.block is None else self.block) else ar


class ParallelFunction(RemoteFunction):
    """Calling it maps the function over its (sequence) arguments across the view's engines."""

    def __init__(self, view, f, dist="b", block=None, chunksize=None, ordered=True, **flags):
        super().__init__(view, f, block, **flags)
        self.dist = dist
        self.chunksize = chunksize
        self.ordered = ordered

    def __call__(self, *sequences):
        block = self.view.block if self.block is None else self.block
        with self.view.temp_flags(**self.flags):
            if isinstance(self.view, LoadBalancedView):
                return self.view.map(self.func, *sequences, block=block, chunksize=self.chunksize,
                                     ordered=self.ordered)
            return self.view.map(self.func, *sequences, block=block)

    def map(self, *sequences):
        return self(*sequences)


def remote(view, block=None, **flags):
    def decorate(f):
        return RemoteFunction(view, f, block=block, **flags)
    return decorate


def parallel(view, dist="b", block=None, **flags):
    def decorate(f):
        return ParallelFunction(view, f, dist=dist, block=block, **flags)
    return decorate
