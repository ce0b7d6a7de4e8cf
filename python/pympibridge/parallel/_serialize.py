"""How objects travel between clients and engines: pickle protocol 5, with array buffers out of band.

Functions are shipped the way ipyparallel ships them: a function defined in ``__main__`` (a notebook, a script, a
lambda) travels by value (its code, defaults and closure) and runs on the engine with the engine's namespace as its
globals, so it sees what was pushed or imported there (``sync_imports``). A function that can be imported by name on
the engine travels by reference. ``use_cloudpickle()``/``use_dill()`` switch to those picklers for everything else.

Numpy arrays (anything pickle hands to ``buffer_callback``) are not copied into the pickle: their memory is sent as
separate frame parts and the receiver rebuilds the array over the received (writable) buffer.
"""

import builtins
import io
import marshal
import pickle
import sys
import types

_PROTOCOL = 5
_pickler_module = pickle        # switched by use_cloudpickle() / use_dill()
_namespace = None               # the globals by-value functions get when rebuilt (the engine's user namespace)


def set_namespace(ns):
    """Where functions that travel by value find their globals (engine: the user namespace)."""
    global _namespace
    _namespace = ns


def _current_namespace():
    if _namespace is not None:
        return _namespace
    return sys.modules["__main__"].__dict__


class Reference:
    """A name resolved on the engine at run time: ``view.apply(f, Reference('a'))`` passes the engine's ``a``."""

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Reference takes a variable name, got {type(name).__name__}")
        self.name = name

    def __repr__(self):
        return f"<Reference: {self.name!r}>"

    def __reduce__(self):
        return _resolve_reference, (self.name,)


def _resolve_reference(name):
    # ipyparallel evaluates the reference in the engine's namespace: 'a', 'a.b', 'g[0]' all work
    try:
        return eval(name, _current_namespace())
    except NameError as e:
        raise NameError(f"{e} on this engine (Reference({name!r}))") from None


def interactive(f):
    """Makes a function run with the engine's namespace as its globals, as if defined in ``__main__``."""
    if isinstance(f, types.FunctionType):
        main = sys.modules["__main__"]
        g = types.FunctionType(f.__code__, main.__dict__, f.__name__, f.__defaults__, f.__closure__)
        g.__kwdefaults__ = f.__kwdefaults__
        g.__qualname__ = f.__qualname__
        g.__doc__ = f.__doc__
        g.__dict__.update(f.__dict__)
        f = g
    f.__module__ = "__main__"
    return f


def _importable(f):
    module = sys.modules.get(f.__module__ or "")
    if module is None or f.__module__ == "__main__":
        return False
    obj = module
    for part in f.__qualname__.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is f


def _reduce_function(f):
    closure = tuple(c.cell_contents for c in f.__closure__) if f.__closure__ else None
    return _rebuild_function, (marshal.dumps(f.__code__), f.__name__, f.__qualname__, f.__module__,
                               f.__defaults__, f.__kwdefaults__, closure, f.__dict__ or None)


def _rebuild_function(code, name, qualname, module, defaults, kwdefaults, closure, attrs):
    g = None
    if module and not module.startswith("__"):
        try:
            __import__(module)
            g = sys.modules[module].__dict__
        except Exception:  # not importable here: behave like an interactive function
            g = None
    if g is None:
        g = _current_namespace()
        g.setdefault("__builtins__", builtins)
    cells = tuple(types.CellType(v) for v in closure) if closure is not None else None
    f = types.FunctionType(marshal.loads(code), g, name, defaults, cells)
    f.__qualname__ = qualname
    f.__kwdefaults__ = kwdefaults
    f.__module__ = module
    if attrs:
        f.__dict__.update(attrs)
    return f


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if type(obj) is types.FunctionType and not _importable(obj):
            return _reduce_function(obj)
        return NotImplemented


_ATOMIC = (type(None), bool, int, float, complex, str, bytes)
_NONE = pickle.dumps(None, _PROTOCOL)


def dumps(obj):
    """Serializes ``obj`` into frame parts: ``[pickle, *out_of_band_buffers]``."""
    if obj is None:
        return [_NONE]
    if type(obj) in _ATOMIC:
        return [pickle.dumps(obj, _PROTOCOL)]  # nothing in it can be a function or a buffer
    buffers = []
    if _pickler_module is pickle:
        f = io.BytesIO()
        _Pickler(f, _PROTOCOL, buffer_callback=buffers.append).dump(obj)
        data = f.getvalue()
    else:
        data = _pickler_module.dumps(obj, protocol=_PROTOCOL, buffer_callback=buffers.append)
    return [data] + [b.raw() for b in buffers]


# (code, name, qualname, module, pickler) -> bytes, for functions with no state of their own: their pickle depends on
# nothing else, so a flood of tasks (even `lambda: None` re-created per call) pickles its function once
_function_bytes = {}


_NO_ARGUMENTS = pickle.dumps(((), {}), _PROTOCOL)


def dumps_arguments(args, kwargs):
    """(args, kwargs) as frame parts; plain values (the common case of many small tasks) skip the custom pickler."""
    if not kwargs:
        if not args:
            return [_NO_ARGUMENTS]
        if all(type(a) in _ATOMIC for a in args):
            return [pickle.dumps((tuple(args), {}), _PROTOCOL)]
    return dumps((tuple(args), dict(kwargs or {})))


def dumps_inline(obj):
    """One pickle with everything inside (no separate buffers): for functions, sent ahead of their arguments."""
    if type(obj) is types.FunctionType and obj.__defaults__ is None and obj.__closure__ is None and \
            obj.__kwdefaults__ is None and not obj.__dict__:
        key = (obj.__code__, obj.__name__, obj.__qualname__, obj.__module__, _pickler_module)
        data = _function_bytes.get(key)
        if data is None:
            data = _dumps_inline(obj)
            if len(_function_bytes) >= 256:
                _function_bytes.clear()
            _function_bytes[key] = data
        return data
    return _dumps_inline(obj)


def _dumps_inline(obj):
    if _pickler_module is pickle:
        f = io.BytesIO()
        _Pickler(f, _PROTOCOL).dump(obj)
        return f.getvalue()
    return _pickler_module.dumps(obj, protocol=_PROTOCOL)


def loads(parts):
    """Rebuilds an object from frame parts made by ``dumps``."""
    return pickle.loads(parts[0], buffers=parts[1:])


def use_pickle():
    """Plain pickle (with ipyparallel-style by-value functions): the default."""
    global _pickler_module
    _pickler_module = pickle


def use_cloudpickle():
    """cloudpickle for everything: closures over locals, classes defined interactively."""
    global _pickler_module
    import cloudpickle
    _pickler_module = cloudpickle


def use_dill():
    """dill for everything."""
    global _pickler_module
    import dill
    _pickler_module = dill

