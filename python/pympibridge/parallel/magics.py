"""IPython magics for interactive parallel work: ``%px``, ``%%px``, ``%pxresult``, ``%autopx``, ``%pxconfig``.

They behave as ipyparallel's: creating a ``Client`` inside IPython activates a blocking DirectView on all engines,
``view.activate(suffix)`` (or ``client.activate(targets, suffix)``) binds another view to ``%px<suffix>`` etc.

Output follows ipyparallel: each engine's stdout as ``[stdout:<engine>] text`` (stderr likewise, on stderr), the
value of a final expression as ``Out[<engine>:<execution count on that engine>]: value``; a view on a single
engine (``--targets 1``) prints its streams without the prefix. A remote exception is raised (RemoteError, or
CompositeError for several engines) after the outputs are shown, so IPython renders the engines' tracebacks.

Our engines run plain Python (not IPython kernels): IPython syntax such as ``%magics`` or ``!commands`` inside code
sent to the engines is a SyntaxError there.
"""

import ast
import concurrent.futures
import itertools
import re
import sys

from . import error

try:
    from IPython.core import magic_arguments
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, no_var_expand
except ImportError:  # the package works without IPython; only the magics need it
    Magics = None

NO_LAST_RESULT = "%pxresult recalls last %px result, which has not yet been used."

# suffix -> the ParallelMagics instance registered under it (the most recent activation)
_active = {}
# token -> ParallelMagics with %autopx on (the code an autopx cell is rewritten to finds its magics here)
_autopx_owners = {}
_tokens = itertools.count(1)


# ---- entry points used by client.py and view.py ------------------------------------------------------------------

def _register_on_client_creation(client):
    """Inside IPython, the first Client (or the first after the previous one closed) activates ``%px`` on a
    blocking view of all its engines, as ipyparallel does."""
    ip = _get_ipython()
    if ip is None or Magics is None:
        return
    current = _active.get("")
    registered = "px" in ip.magics_manager.magics["line"]
    if registered and current is not None and current.shell is ip and \
            not getattr(current.view.client, "_closed", False):
        return  # an earlier, still open client owns %px
    if registered and current is None:
        return  # %px comes from elsewhere (e.g. ipyparallel itself): leave it
    view = client.direct_view("all")
    view.block = True
    activate(view, "")


def activate(view, suffix=""):
    """Registers ``%px<suffix>``, ``%%px<suffix>``, ``%pxresult<suffix>``, ``%autopx<suffix>`` and
    ``%pxconfig<suffix>`` (and ``%result`` without a suffix) for ``view``."""
    ip = _get_ipython()
    if ip is None or Magics is None:
        import warnings
        warnings.warn("The parallel magics (%px, etc.) only work within IPython.")
        return None
    old = _active.get(suffix)
    if old is not None and old._autopx:
        old._disable_autopx(quiet=True)
    m = ParallelMagics(ip, view, suffix)
    ip.magics_manager.register(m)
    _active[suffix] = m
    return m


def _get_ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


# ---- displaying results as ipyparallel does ----------------------------------------------------------------------

class _PxOutput:
    """One engine's execute_result, shown as ``Out[engine:count]: value`` (via IPython's display machinery, so a
    notebook gets it as an output of the cell)."""

    def __init__(self, engine_id, reply):
        self.engine_id = engine_id
        self.execution_count = getattr(reply, "execution_count", None)
        data = getattr(reply, "data", None) or {}
        self.text = data.get("text/plain", str(reply))

    def _plaintext(self):
        text = self.text
        if "\n" in text and not text.startswith("\n"):
            text = "\n" + text  # multi-line reprs start on their own line
        return f"Out[{self.engine_id}:{self.execution_count}]: {text}"

    def _repr_pretty_(self, p, cycle):
        p.text(self._plaintext())

    def __repr__(self):
        return self._plaintext()


def _show_stream(text, prefix="", file=None):
    """ipyparallel's stream layout: ``[stdout:0] one line``; a multi-line text starts below its prefix."""
    if not text:
        return
    file = sys.stdout if file is None else file
    end = "" if text.endswith("\n") else "\n"
    multiline = text.count("\n") > int(text.endswith("\n"))
    if prefix and multiline and not text.startswith("\n"):
        prefix = prefix + "\n"
    print(f"{prefix}{text}", file=file, end=end)
    file.flush()


def _show_result(engine_id, reply):
    out = _PxOutput(engine_id, reply)
    ip = _get_ipython()
    if ip is None:
        print(out._plaintext())
        return
    sys.stdout.flush()
    from IPython.display import display
    display(out)


def _records(ar):
    """[(engine_id, stdout, stderr, execute_result, finished)] for each task of ``ar``, in submission order."""
    mds = ar.metadata
    if isinstance(mds, dict):
        mds = [mds]
    return [(md.get("engine_id"), md.get("stdout") or "", md.get("stderr") or "", md.get("execute_result"),
             md.get("status") is not None) for md in mds]


def display_outputs(ar, groupby="type", result_only=False):
    """Prints the outputs of a finished ``execute`` AsyncResult the way ipyparallel's ``display_outputs`` does.

    ``groupby``: 'type' (all stdout, then all stderr, then the results), 'engine' (everything of one engine, then
    the next) or 'order' (as 'type': our engines publish no rich display outputs to collate)."""
    if groupby not in ("type", "engine", "order"):
        raise ValueError(f"groupby must be one of 'type', 'engine', 'order', not {groupby!r}")
    ar.wait()
    records = _records(ar)
    if getattr(ar, "_single_result", False) and len(records) == 1:
        eid, out, err, reply, _ = records[0]
        if not result_only:
            _show_stream(out)
            _show_stream(err, file=sys.stderr)
        if reply is not None:
            _show_result(eid, reply)
        return
    if groupby == "engine":
        for eid, out, err, reply, _ in records:
            if not result_only:
                _show_stream(out, f"[stdout:{eid}] ")
                _show_stream(err, f"[stderr:{eid}] ", file=sys.stderr)
            if reply is not None:
                if _get_ipython() is not None:
                    print(f"[output:{eid}]")
                _show_result(eid, reply)
        return
    if not result_only:
        for eid, out, _err, _reply, _ in records:
            _show_stream(out, f"[stdout:{eid}] ")
        for eid, _out, err, _reply, _ in records:
            _show_stream(err, f"[stderr:{eid}] ", file=sys.stderr)
    for eid, _out, _err, reply, _ in records:
        if reply is not None:
            _show_result(eid, reply)


class AlreadyDisplayedError(error.CompositeError):
    """Raised by ``%px --stream`` after the engines' tracebacks were already printed as they arrived: IPython
    shows only ``N errors`` instead of repeating them."""

    def __init__(self, original):
        super().__init__(original.msg, original.elist)
        self.original = original

    def render_traceback(self, excid=None):
        if excid is not None:
            return self.original.render_traceback(excid)
        return [f"{len(self.elist)} errors"]  # ipyparallel's words, whatever the number

    def _render_traceback_(self):
        return self.render_traceback()


def _stream_until_done(ar, poll=0.05):
    """Prints each engine's stdout/stderr/result (and traceback) as its reply arrives; returns how many of the
    tasks failed with their traceback printed."""
    shown = set()
    single = getattr(ar, "_single_result", False)
    while True:
        ready = ar.ready()
        mds = ar.metadata
        if isinstance(mds, dict):
            mds = [mds]
        for i, md in enumerate(mds):
            if i in shown or md.get("status") is None:
                continue
            shown.add(i)
            eid = md.get("engine_id")
            _show_stream(md.get("stdout") or "", "" if single else f"[stdout:{eid}] ")
            _show_stream(md.get("stderr") or "", "" if single else f"[stderr:{eid}] ", file=sys.stderr)
            if md.get("execute_result") is not None:
                _show_result(eid, md["execute_result"])
            err = md.get("error")
            if err and not single:
                info = err.get("engine_info") or {}
                lines = [error.RemoteError._get_engine_str(info) + ":"]
                lines += (err.get("traceback") or f"{err.get('ename')}: {err.get('evalue')}").splitlines()
                print("\n".join(lines), file=sys.stderr)
                sys.stderr.flush()
        if ready:
            return
        concurrent.futures.wait([ar], timeout=poll)


# ---- the magics --------------------------------------------------------------------------------------------------

def _parse_targets(client, text):
    """``--targets`` values as ipyparallel reads them: a slice of the engine ids (':', '::2', ':-1', '1::2'),
    'all', an int or a list of ints."""
    text = text.strip()
    if ":" in text:
        body = text.strip("[]") if text.startswith("[") else text
        parts = body.split(":")
        if len(parts) > 3:
            raise UsageError(f"invalid --targets slice {text!r}")
        try:
            bounds = [int(p) if p.strip() else None for p in parts]
        except ValueError:
            raise UsageError(f"invalid --targets slice {text!r}: use integers, e.g. ':-1' or '::2'") from None
        return client.ids[slice(*bounds)]
    if "all" in text:
        return "all"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"invalid --targets {text!r}: use an engine id, a list of ids, a slice like ':-1', "
                         "or 'all'") from None
    if isinstance(value, tuple):
        value = list(value)
    if not (isinstance(value, int) or isinstance(value, list) and all(isinstance(v, int) for v in value)):
        raise UsageError(f"invalid --targets {text!r}: use an engine id, a list of ids, a slice, or 'all'")
    return value


def _signal_value(text):
    return int(text) if text.isdigit() else text


if Magics is not None:

    def exec_args(f):
        """--block/--noblock/--stream/--targets/--verbose/... for %pxconfig and %%px."""
        args = [
            magic_arguments.argument("-b", "--block", action="store_const", const=True, dest="block",
                                     help="use blocking (sync) execution"),
            magic_arguments.argument("-a", "--noblock", action="store_const", const=False, dest="block",
                                     help="use non-blocking (async) execution"),
            magic_arguments.argument("--stream", action="store_const", const=True, dest="stream",
                                     help="print each engine's output as soon as its reply arrives "
                                          "(blocking execution only)"),
            magic_arguments.argument("--no-stream", action="store_const", const=False, dest="stream",
                                     help="print the outputs, grouped, once every engine has finished"),
            magic_arguments.argument("-t", "--targets", type=str,
                                     help="the engines to run on: an id, a list, a slice like ':-1', or 'all'"),
            magic_arguments.argument("--verbose", action="store_const", const=True, dest="set_verbose",
                                     help="print a message at each execution"),
            magic_arguments.argument("--no-verbose", action="store_const", const=False, dest="set_verbose",
                                     help="don't print any messages"),
            magic_arguments.argument("--progress-after", dest="progress_after_seconds", type=float, default=None,
                                     help="accepted for ipyparallel compatibility (no progress bar is shown)"),
            magic_arguments.argument("--signal-on-interrupt", dest="signal_on_interrupt", type=str,
                                     default=None,
                                     help="signal to send to the engines on Ctrl-C during blocking execution "
                                          "(SIGINT by default; when the client cannot signal engines, the tasks "
                                          "that have not started are aborted instead)"),
        ]
        for a in args:
            f = a(f)
        return f

    def output_args(f):
        """-r/-e/--group-outputs/--out for %pxresult and %%px."""
        args = [
            magic_arguments.argument("-r", action="store_const", dest="groupby", const="order",
                                     help="collate outputs in order (same as group-outputs=order)"),
            magic_arguments.argument("-e", action="store_const", dest="groupby", const="engine",
                                     help="group outputs by engine (same as group-outputs=engine)"),
            magic_arguments.argument("--group-outputs", dest="groupby", type=str,
                                     choices=["engine", "order", "type"], default="type",
                                     help="type: all stdout, then all stderr, then the results; "
                                          "engine: all output of each engine together; order: as type"),
            magic_arguments.argument("-o", "--out", dest="save_name", type=str,
                                     help="store the AsyncResult of this computation in the user namespace "
                                          "under this name"),
        ]
        for a in args:
            f = a(f)
        return f

    class _AutopxTransformer:
        """Rewrites every cell into a call that runs it on the engines, except a cell that toggles %autopx."""

        # IPython's check_complete must not run this (it would make any partial input look complete)
        has_side_effects = True

        def __init__(self, token):
            self.token = token

        def __call__(self, lines):
            cell = "".join(lines)
            if not cell.strip() or re.match(r"^\s*%autopx\w*\s*$", cell.strip().splitlines()[0]):
                return lines
            return [f"__import__('pympibridge.parallel.magics', fromlist=['_'])._autopx_run({self.token}, "
                    f"{cell!r})\n"]

    class ParallelMagics(Magics):
        """The parallel magics of one view (and one suffix)."""

        magics = None
        registered = True

        _autopx = False
        last_result = None
        verbose = False
        # ipyparallel streams by default in interactive sessions; we print the outputs grouped, in engine order,
        # once all engines are done (deterministic); --stream / %pxconfig --stream prints them as they arrive
        stream_output = False
        progress_after_seconds = 2
        signal_on_interrupt = "SIGINT"

        def __init__(self, shell, view, suffix=""):
            self.view = view
            self.suffix = suffix
            self._transformer = None
            self.magics = dict(cell={}, line={})
            line = self.magics["line"]
            px = "px" + suffix
            if not suffix:
                line["result"] = self.result  # ipyparallel keeps %result for legacy code
            line["pxresult" + suffix] = self.result
            line[px] = self.px
            line["pxconfig" + suffix] = self.pxconfig
            line["auto" + px] = self.autopx
            self.magics["cell"][px] = self.cell_px
            super().__init__(shell=shell)

        # ---- %pxconfig -------------------------------------------------------------------------------------

        @magic_arguments.magic_arguments()
        @exec_args
        def pxconfig(self, line):
            """configure default targets/blocking for %px magics"""
            args = magic_arguments.parse_argstring(self.pxconfig, line)
            if args.targets:
                self.view.targets = _parse_targets(self.view.client, args.targets)
            if args.block is not None:
                self.view.block = args.block
            if args.set_verbose is not None:
                self.verbose = args.set_verbose
            if args.stream is not None:
                self.stream_output = args.stream
            if args.signal_on_interrupt is not None:
                self.signal_on_interrupt = _signal_value(args.signal_on_interrupt)
            if args.progress_after_seconds is not None:
                self.progress_after_seconds = args.progress_after_seconds

        # ---- %pxresult -------------------------------------------------------------------------------------

        @magic_arguments.magic_arguments()
        @output_args
        def result(self, line=""):
            """Print the result of the last asynchronous %px command.

            This lets you recall the results of %px computations after asynchronous submission (block=False)::

                In [23]: %px os.getpid()
                Async parallel execution on engine(s): all

                In [24]: %pxresult
                Out[0:10]: 60920
                Out[1:10]: 60921
            """
            args = magic_arguments.parse_argstring(self.result, line)
            if self.last_result is None:
                raise UsageError(NO_LAST_RESULT)
            if args.save_name:
                self.shell.user_ns[args.save_name] = self.last_result
                return
            self.last_result.get()
            display_outputs(self.last_result, groupby=args.groupby)

        # ---- %px / %%px ------------------------------------------------------------------------------------

        @no_var_expand
        def px(self, line=""):
            """Executes the given python command in parallel.

            Examples
            --------
            ::

                In [24]: %px a = os.getpid()

                In [25]: %px print(a)
                [stdout:0] 1234
                [stdout:1] 1235
            """
            return self.parallel_execute(line)

        def parallel_execute(self, cell, block=None, groupby="type", save_name=None, stream_output=None,
                             progress_after=None, signal_on_interrupt=None):
            """What %px and %%px do: runs ``cell`` on the view's engines; blocking, shows the outputs (and raises
            a remote exception) and returns None; non-blocking, returns the AsyncResult."""
            block = self.view.block if block is None else block
            stream_output = self.stream_output if stream_output is None else stream_output
            signal_on_interrupt = self.signal_on_interrupt if signal_on_interrupt is None else signal_on_interrupt

            targets = self.view.targets
            if isinstance(targets, (slice, range)) or isinstance(targets, int) and targets < 0:
                try:  # ipyparallel's views hold explicit ids: show those
                    ids = self.view.client.ids
                    targets = ids[targets] if isinstance(targets, slice) else (
                        list(targets) if isinstance(targets, range) else ids[targets])
                except (IndexError, TypeError):
                    pass
            if isinstance(targets, list) and len(targets) > 10:
                str_targets = str(targets[:4])[:-1] + ", ..., " + str(targets[-4:])[1:]
            else:
                str_targets = str(targets)
            if self.verbose:
                base = "Parallel" if block else "Async parallel"
                print(f"{base} execution on engine(s): {str_targets}")

            result = self.view.execute(cell, silent=False, block=False)
            result._fname = "%px"
            self.last_result = result
            if save_name:
                self.shell.user_ns[save_name] = result
            if not block:
                return result

            streamed = False
            try:
                if stream_output:
                    streamed = True
                    _stream_until_done(result)
                else:
                    result.wait()
                try:
                    result.get()
                except error.CompositeError as e:
                    if streamed:
                        raise AlreadyDisplayedError(e) from None
                    raise
            except KeyboardInterrupt:
                self._interrupted(result, targets, signal_on_interrupt)
                raise
            finally:
                if not streamed and result.ready():
                    display_outputs(result, groupby)
            return None

        def _interrupted(self, result, targets, sig):
            client = self.view.client
            if sig is None:
                return
            send_signal = getattr(client, "send_signal", None)
            if send_signal is not None:
                print(f"Received Keyboard Interrupt. Sending signal {sig} to engines...", file=sys.stderr)
                send_signal(sig, targets=targets, block=True)
                return
            print("Received Keyboard Interrupt. Aborting the tasks that have not started "
                  "(engines cannot be signalled by this client)...", file=sys.stderr)
            try:
                if not result.ready():
                    result.abort()
            except Exception:
                pass

        @magic_arguments.magic_arguments()
        @exec_args
        @output_args
        @magic_arguments.argument("--local", action="store_const", const=True, dest="local",
                                  help="also execute the cell in the local namespace")
        def cell_px(self, line="", cell=None):
            """Executes the cell in parallel.

            Examples
            --------
            ::

                In [24]: %%px --noblock
                   ....: a = os.getpid()
                Out[24]: <AsyncResult(%px): pending>

                In [25]: %%px
                   ....: print(a)
                [stdout:0] 1234
                [stdout:1] 1235
            """
            args = magic_arguments.parse_argstring(self.cell_px, line)
            if args.targets:
                save_targets = self.view.targets
                self.view.targets = _parse_targets(self.view.client, args.targets)
            signal_on_interrupt = None
            if args.signal_on_interrupt:
                signal_on_interrupt = _signal_value(args.signal_on_interrupt)
            # with --local the cell runs here while the engines work; only then wait for them
            block = False if args.local else args.block
            try:
                ar = self.parallel_execute(cell, block=block, groupby=args.groupby, save_name=args.save_name,
                                           stream_output=args.stream, progress_after=args.progress_after_seconds,
                                           signal_on_interrupt=signal_on_interrupt)
            finally:
                if args.targets:
                    self.view.targets = save_targets
            block = self.view.block if args.block is None else args.block
            if args.local:
                self.shell.run_cell(cell)
                if block:
                    try:
                        ar.get()
                    finally:
                        display_outputs(ar, args.groupby)
            if not block:
                return ar
            return None

        # ---- %autopx ---------------------------------------------------------------------------------------

        def autopx(self, line=""):
            """Toggles auto parallel mode.

            Once this is called, every cell is sent to the engines of this view instead of running locally
            (blocking or not as the view is), until ``%autopx`` is run again::

                In [25]: %autopx
                %autopx enabled

                In [26]: a = 10

                In [27]: print(a)
                [stdout:0] 10
                [stdout:1] 10

                In [28]: %autopx
                %autopx disabled
            """
            if self._autopx:
                self._disable_autopx()
            else:
                self._enable_autopx()

        def _enable_autopx(self):
            token = next(_tokens)
            _autopx_owners[token] = self
            self._transformer = _AutopxTransformer(token)
            self.shell.input_transformers_cleanup.append(self._transformer)
            self._autopx = True
            print("%autopx enabled")

        def _disable_autopx(self, quiet=False):
            if not self._autopx:
                return
            transformers = self.shell.input_transformers_cleanup
            if self._transformer in transformers:
                transformers.remove(self._transformer)
            _autopx_owners.pop(self._transformer.token, None)
            self._transformer = None
            self._autopx = False
            if not quiet:
                print("%autopx disabled")


def _autopx_run(token, cell):
    """What a cell becomes under %autopx: run it on the engines (returns None, so IPython shows no Out)."""
    owner = _autopx_owners.get(token)
    if owner is None:
        raise RuntimeError("%autopx is no longer enabled for this cell's view")
    owner.parallel_execute(cell)
