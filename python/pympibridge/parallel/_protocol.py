"""The fixed binary headers of the hot path (client <-> engine). One table, used by both ends.

Requests: ``[meta, payload...]`` with meta = REQUEST (kind, flags, seq, submitted).
Replies:  ``[meta, stdout, stderr, payload...]`` with meta = REPLY (status, flags, seq, started, completed).
Everything that is not on the hot path (controller requests, task records) is JSON or pickle in a frame.
"""

import datetime
import struct

REQUEST = struct.Struct("<BBHIQd")     # kind, flags, unused, unused, seq, submitted (unix time)
REPLY = struct.Struct("<BBHIQdd")      # status, flags, unused, unused, seq, started, completed

# request kinds
APPLY, EXECUTE, PUSH, PULL, ABORT, CLEAR = 1, 2, 3, 4, 5, 6
KIND_NAMES = {APPLY: "apply", EXECUTE: "execute", PUSH: "push", PULL: "pull", ABORT: "abort", CLEAR: "clear"}

# request flags
SILENT = 1             # execute: no execute_result

# reply status
OK, ERROR, ABORTED = 0, 1, 2
STATUS_NAMES = {OK: "ok", ERROR: "error", ABORTED: "aborted"}

# reply flags
HAS_RESULT = 1         # execute: payload holds the execute_result


def utc_datetime(ts):
    """A timestamp of the protocol (unix seconds, 0/None = not yet) as ipyparallel shows it: an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc) if ts else None
