"""The controller's task database: one record per task, queried with Mongo-style dicts.

Two backends with the same behaviour, MemoryDB (ipyparallel's DictDB) and SQLiteDB, plus ``make_db``.

Both backends share the validation and the encoding below, so a record or a query is accepted or rejected
identically whichever backend is used. Stored values are "encoded" (immutable, totally ordered per key):

* datetimes -> fixed-width UTC ISO strings ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``: exact round trip, and string
  order is time order, so ``$lt``/``$gt`` work as plain comparisons in Python and in SQL alike.
* dicts -> JSON text: each read decodes a fresh dict, so callers can mutate results without touching the DB.
* result_buffers -> tuple of bytes (SQLite packs it into one length-prefixed BLOB).

Query semantics (ipyparallel's ``db_query``, with ``$gt`` meaning ``value > operand``, which DictDB gets backwards):
``{key: v}`` is ``{key: {'$eq': v}}``; several ops on a key and several keys AND together; a None (missing)
value never matches ``$lt $gt $lte $gte``, matches ``$ne`` anything but None, and ``$exists: True`` is "not None".
Results and ``get_history`` are ordered by ``submitted`` (None first, as SQLite sorts NULL), ties in insertion order.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
import threading
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Any

__all__ = ["TaskDB", "MemoryDB", "SQLiteDB", "make_db", "SCHEMA", "STATUSES"]

# key -> kind. The kind decides validation, encoding and the SQLite column type.
SCHEMA = {
    "msg_id": "str",
    "client_uuid": "str",
    "engine_uuid": "str",
    "engine_id": "int",
    "method": "str",
    "submitted": "time",
    "started": "time",
    "completed": "time",
    "received": "time",
    "status": "str",
    "stdout": "str",
    "stderr": "str",
    "error": "json",
    "result_buffers": "bufs",
    "execute_result": "json",
}
STATUSES = ("ok", "error", "aborted")
_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "time": "TEXT", "json": "TEXT", "bufs": "BLOB"}
_ORDERING = {"$lt": "<", "$gt": ">", "$lte": "<=", "$gte": ">="}
OPERATORS = ("$eq", "$ne", *_ORDERING, "$in", "$nin", "$exists")
_VALID_KEYS = ", ".join(SCHEMA)


# ---------------------------------------------------------------------------------------------------------------
# validation and encoding (shared by both backends)
# ---------------------------------------------------------------------------------------------------------------

def _check_key(key: Any, what: str = "task record key") -> None:
    if key not in SCHEMA:
        raise ValueError(f"unknown {what} {key!r}; valid keys: {_VALID_KEYS}")


def _bad(key: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"{key!r} must be {expected} or None, not {type(value).__name__} {value!r:.100}")


def _encode(key: str, value: Any) -> Any:
    """Validate ``value`` for ``key`` and return its stored (encoded) form. None is always None."""
    if value is None:
        return None
    kind = SCHEMA[key]
    if kind == "str":
        if not isinstance(value, str):
            raise _bad(key, "a str", value)
        if key == "status" and value not in STATUSES:
            raise ValueError(f"'status' must be one of {STATUSES} or None, not {value!r}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad(key, "an int", value)
        return value
    if kind == "time":
        # A naive datetime is ambiguous (local time? UTC?); refuse it rather than guess.
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise _bad(key, "a timezone-aware datetime", value)
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if kind == "json":
        if not isinstance(value, dict):
            raise _bad(key, "a dict", value)
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{key!r} must be JSON-serializable: {e}") from None
    # bufs
    if not isinstance(value, (list, tuple)) or not all(isinstance(b, (bytes, bytearray, memoryview)) for b in value):
        raise _bad(key, "a list of bytes", value)
    return tuple(bytes(b) for b in value)


def _decode(key: str, stored: Any) -> Any:
    if stored is None:
        return None
    kind = SCHEMA[key]
    if kind == "time":
        return datetime.fromisoformat(stored)
    if kind == "json":
        return json.loads(stored)
    if kind == "bufs":
        return list(stored)
    return stored


def _encode_record(record: dict) -> dict:
    if not isinstance(record, dict):
        raise TypeError(f"a task record must be a dict, not {type(record).__name__}")
    for key in record:
        _check_key(key)
    if not isinstance(record.get("msg_id"), str):
        raise ValueError(f"a task record needs a str 'msg_id', got {record.get('msg_id')!r}")
    return {key: _encode(key, value) for key, value in record.items()}


def _compile_query(query: dict) -> list[tuple[str, str, Any]]:
    """Validate a Mongo-style query into ``[(key, op, encoded operand), ...]``, all of which must hold."""
    if not isinstance(query, dict):
        raise TypeError(f"a query must be a dict, not {type(query).__name__}")
    conditions = []
    for key, spec in query.items():
        _check_key(key, "query key")
        ops = spec if isinstance(spec, dict) else {"$eq": spec}
        if not ops:
            raise ValueError(f"empty operator dict for query key {key!r}")
        for op, operand in ops.items():
            if op not in OPERATORS:
                raise ValueError(f"unknown query operator {op!r} for key {key!r}; valid operators: "
                                 f"{', '.join(OPERATORS)}")
            # dicts and buffers have no meaningful equality or order in SQL (JSON key order, blobs):
            # they can only be tested for presence.
            if SCHEMA[key] in ("json", "bufs") and not (op == "$exists" or (op in ("$eq", "$ne") and operand is None)):
                raise ValueError(f"{key!r} can only be queried with None or '$exists', not {op!r}")
            if op == "$exists":
                if not isinstance(operand, bool):
                    raise ValueError(f"'$exists' for key {key!r} takes True or False, not {operand!r}")
                encoded = operand
            elif op in ("$in", "$nin"):
                if not isinstance(operand, (list, tuple, set, frozenset)):
                    raise ValueError(f"{op!r} for key {key!r} takes a list, not {type(operand).__name__}")
                encoded = tuple(_encode(key, v) for v in operand)
            elif op in _ORDERING and operand is None:
                raise ValueError(f"{op!r} for key {key!r} cannot compare with None")
            else:
                encoded = _encode(key, operand)
            conditions.append((key, op, encoded))
    return conditions


def _check_keys(keys: list[str] | None) -> list[str]:
    """The keys of each result: all of them, or msg_id plus the requested ones."""
    if keys is None:
        return list(SCHEMA)
    if isinstance(keys, str):
        raise TypeError("keys must be a list of str, not a str")
    for key in keys:
        _check_key(key)
    return ["msg_id", *dict.fromkeys(k for k in keys if k != "msg_id")]


# ---------------------------------------------------------------------------------------------------------------
# the interface
# ---------------------------------------------------------------------------------------------------------------

class TaskDB(ABC):
    """Task records keyed by msg_id. Thread-safe: each implementation serializes calls with its own lock."""

    @abstractmethod
    def add_records(self, records: list[dict]) -> None:
        """Insert records, replacing (whole) any record with the same msg_id. All are validated first."""

    @abstractmethod
    def update_record(self, msg_id: str, changes: dict) -> None:
        """Set some keys of an existing record. KeyError if there is none."""

    @abstractmethod
    def get_record(self, msg_id: str) -> dict:
        """The full record (every schema key, None where unset). KeyError if there is none."""

    @abstractmethod
    def get_records(self, msg_ids: list[str]) -> dict[str, dict]:
        """{msg_id: record} for those of ``msg_ids`` that exist."""

    @abstractmethod
    def find_records(self, query: dict, keys: list[str] | None = None) -> list[dict]:
        """Matching records ordered by submitted; with ``keys``, only msg_id plus those keys."""

    @abstractmethod
    def get_history(self) -> list[str]:
        """All msg_ids ordered by submitted."""

    @abstractmethod
    def drop_matching_records(self, query: dict) -> int:
        """Delete the matching records; return how many."""

    @abstractmethod
    def drop_record(self, msg_id: str) -> None:
        """Delete one record. KeyError if there is none."""

    @abstractmethod
    def size(self) -> int:
        """The number of records."""

    def close(self) -> None:
        """Release resources. The DB must not be used afterwards."""


def _missing(msg_id: str) -> KeyError:
    return KeyError(f"No such msg_id: {msg_id!r}")


def _changes(msg_id: str, changes: dict) -> dict:
    if not isinstance(changes, dict):
        raise TypeError(f"changes must be a dict, not {type(changes).__name__}")
    for key in changes:
        _check_key(key)
    if changes.get("msg_id", msg_id) != msg_id:
        raise ValueError(f"cannot change the msg_id of {msg_id!r}")
    return {key: _encode(key, value) for key, value in changes.items() if key != "msg_id"}


# ---------------------------------------------------------------------------------------------------------------
# in memory
# ---------------------------------------------------------------------------------------------------------------

_MATCH = {
    "$eq": lambda v, x: v == x,
    "$ne": lambda v, x: v != x,
    "$lt": lambda v, x: v is not None and v < x,
    "$gt": lambda v, x: v is not None and v > x,
    "$lte": lambda v, x: v is not None and v <= x,
    "$gte": lambda v, x: v is not None and v >= x,
    "$in": lambda v, x: v in x,
    "$nin": lambda v, x: v not in x,
    "$exists": lambda v, x: (v is not None) == x,
}


class MemoryDB(TaskDB):
    """Records in a dict (insertion order = tie order), stored encoded so reads hand out fresh copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}

    def _decoded(self, stored: dict, keys: list[str]) -> dict:
        return {key: _decode(key, stored.get(key)) for key in keys}

    def _sorted(self, stored: list[dict]) -> list[dict]:
        # sorted() is stable, so equal timestamps keep insertion order; "" puts a missing submitted first.
        return sorted(stored, key=lambda rec: rec.get("submitted") or "")

    def _match(self, conditions: list) -> list[dict]:
        return [rec for rec in self._records.values()
                if all(_MATCH[op](rec.get(key), x) for key, op, x in conditions)]

    def add_records(self, records: list[dict]) -> None:
        encoded = [_encode_record(rec) for rec in records]
        with self._lock:
            for rec in encoded:
                # pop first: a replaced record moves to the end, as SQLite's INSERT OR REPLACE gives it a new rowid
                self._records.pop(rec["msg_id"], None)
                self._records[rec["msg_id"]] = rec

    def update_record(self, msg_id: str, changes: dict) -> None:
        encoded = _changes(msg_id, changes)
        with self._lock:
            if msg_id not in self._records:
                raise _missing(msg_id)
            self._records[msg_id].update(encoded)

    def get_record(self, msg_id: str) -> dict:
        with self._lock:
            if msg_id not in self._records:
                raise _missing(msg_id)
            return self._decoded(self._records[msg_id], list(SCHEMA))

    def get_records(self, msg_ids: list[str]) -> dict[str, dict]:
        with self._lock:
            return {m: self._decoded(self._records[m], list(SCHEMA)) for m in msg_ids if m in self._records}

    def find_records(self, query: dict, keys: list[str] | None = None) -> list[dict]:
        conditions, wanted = _compile_query(query), _check_keys(keys)
        with self._lock:
            return [self._decoded(rec, wanted) for rec in self._sorted(self._match(conditions))]

    def get_history(self) -> list[str]:
        with self._lock:
            return [rec["msg_id"] for rec in self._sorted(list(self._records.values()))]

    def drop_matching_records(self, query: dict) -> int:
        conditions = _compile_query(query)
        with self._lock:
            matches = self._match(conditions)
            for rec in matches:
                del self._records[rec["msg_id"]]
            return len(matches)

    def drop_record(self, msg_id: str) -> None:
        with self._lock:
            if self._records.pop(msg_id, None) is None:
                raise _missing(msg_id)

    def size(self) -> int:
        with self._lock:
            return len(self._records)


# ---------------------------------------------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------------------------------------------

_LEN = struct.Struct("<Q")


def _pack(bufs: tuple[bytes, ...] | None) -> bytes | None:
    # Each buffer prefixed by its length; () packs to b"" (not NULL) so [] and None stay distinct.
    return None if bufs is None else b"".join(_LEN.pack(len(b)) + b for b in bufs)


def _unpack(blob: bytes | None) -> tuple[bytes, ...] | None:
    if blob is None:
        return None
    bufs, view, pos = [], memoryview(blob), 0
    while pos < len(view):
        (n,) = _LEN.unpack_from(view, pos)
        bufs.append(bytes(view[pos + 8:pos + 8 + n]))
        pos += 8 + n
    return tuple(bufs)


def _where(conditions: list) -> tuple[str, list]:
    """Conditions -> a parametrized WHERE clause. Column names come from SCHEMA only; values are always bound."""
    parts, params = [], []
    for key, op, x in conditions:
        col = f'"{key}"'
        if op in ("$eq", "$ne"):
            # IS / IS NOT compare NULL like a value: `$eq None` is IS NULL, and `$ne v` matches NULL.
            parts.append(f"{col} {'IS' if op == '$eq' else 'IS NOT'} ?")
            params.append(x)
        elif op in _ORDERING:
            parts.append(f"{col} {_ORDERING[op]} ?")   # NULL < x is NULL: a None value never matches
            params.append(x)
        elif op == "$exists":
            parts.append(f"{col} IS {'NOT ' if x else ''}NULL")
        else:
            # The list goes in as ONE JSON parameter, so a long $in (e.g. purging thousands of msg_ids) cannot
            # hit SQLite's limit on bound variables. The expression is never NULL, so NOT(...) is a proper $nin.
            params.append(json.dumps([v for v in x if v is not None]))
            expr = f"({col} IS NOT NULL AND {col} IN (SELECT value FROM json_each(?)))"
            if None in x:
                expr = f"({expr} OR {col} IS NULL)"
            parts.append(f"NOT {expr}" if op == "$nin" else expr)
    return " AND ".join(parts) or "1", params


class SQLiteDB(TaskDB):
    """Records in a SQLite table with one column per schema key; queries run as SQL, not in Python."""

    def __init__(self, path: str, table: str = "tasks") -> None:
        # The table name is the only identifier we put into SQL that does not come from SCHEMA.
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
            raise ValueError(f"invalid table name {table!r}: use letters, digits and underscores")
        self._table, self._lock = f'"{table}"', threading.Lock()
        # One connection shared by the controller's threads (hence check_same_thread=False), serialized by _lock.
        self._conn = sqlite3.connect(path, check_same_thread=False)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")       # readers (e.g. sqlite3 CLI) don't block writes
            self._conn.execute("PRAGMA synchronous=NORMAL")     # safe with WAL; a power cut may lose the last tasks
            columns = ", ".join(f'"{k}" {_SQL_TYPES[kind]}' for k, kind in SCHEMA.items())
            with self._conn:
                self._conn.execute(f"CREATE TABLE IF NOT EXISTS {self._table} ({columns}, PRIMARY KEY (msg_id))")
                # An existing table from another schema would fail later, obscurely: refuse it now.
                found = [row[1] for row in self._conn.execute(f"PRAGMA table_info({self._table})")]
                if found != list(SCHEMA):
                    raise ValueError(f"table {table!r} in {path!r} has columns {found}, expected {list(SCHEMA)}")
                # msg_id PRIMARY KEY is the msg_id index; the submitted index (implicitly ending in rowid) also
                # serves ORDER BY submitted, rowid without sorting.
                self._conn.execute(f'CREATE INDEX IF NOT EXISTS "{table}_submitted" ON {self._table} (submitted)')
        except BaseException:
            self._conn.close()
            raise

    def _select(self, keys: list[str], where: str, params: list) -> list[dict]:
        cols = ", ".join(f'"{k}"' for k in keys)
        rows = self._conn.execute(
            f"SELECT {cols} FROM {self._table} WHERE {where} ORDER BY submitted, rowid", params)
        return [{k: _decode(k, _unpack(v) if k == "result_buffers" else v) for k, v in zip(keys, row)}
                for row in rows]

    @staticmethod
    def _bind(key: str, value: Any) -> Any:
        return _pack(value) if key == "result_buffers" else value

    def add_records(self, records: list[dict]) -> None:
        encoded = [_encode_record(rec) for rec in records]
        cols = ", ".join(f'"{k}"' for k in SCHEMA)
        rows = [[self._bind(k, rec.get(k)) for k in SCHEMA] for rec in encoded]
        with self._lock, self._conn:
            self._conn.executemany(
                f"INSERT OR REPLACE INTO {self._table} ({cols}) VALUES ({', '.join('?' * len(SCHEMA))})", rows)

    def update_record(self, msg_id: str, changes: dict) -> None:
        encoded = _changes(msg_id, changes)
        with self._lock, self._conn:
            if encoded:
                sets = ", ".join(f'"{k}" = ?' for k in encoded)
                params = [self._bind(k, v) for k, v in encoded.items()] + [msg_id]
                found = self._conn.execute(f"UPDATE {self._table} SET {sets} WHERE msg_id = ?", params).rowcount
            else:
                found = self._conn.execute(f"SELECT 1 FROM {self._table} WHERE msg_id = ?", [msg_id]).fetchone()
            if not found:
                raise _missing(msg_id)

    def get_record(self, msg_id: str) -> dict:
        with self._lock:
            rows = self._select(list(SCHEMA), "msg_id = ?", [msg_id])
        if not rows:
            raise _missing(msg_id)
        return rows[0]

    def get_records(self, msg_ids: list[str]) -> dict[str, dict]:
        return {rec["msg_id"]: rec for rec in self.find_records({"msg_id": {"$in": list(msg_ids)}})}

    def find_records(self, query: dict, keys: list[str] | None = None) -> list[dict]:
        where, params = _where(_compile_query(query))
        wanted = _check_keys(keys)
        with self._lock:
            return self._select(wanted, where, params)

    def get_history(self) -> list[str]:
        with self._lock:
            return [rec["msg_id"] for rec in self._select(["msg_id"], "1", [])]

    def drop_matching_records(self, query: dict) -> int:
        where, params = _where(_compile_query(query))
        with self._lock, self._conn:
            return self._conn.execute(f"DELETE FROM {self._table} WHERE {where}", params).rowcount

    def drop_record(self, msg_id: str) -> None:
        with self._lock, self._conn:
            if not self._conn.execute(f"DELETE FROM {self._table} WHERE msg_id = ?", [msg_id]).rowcount:
                raise _missing(msg_id)

    def size(self) -> int:
        with self._lock:
            return self._conn.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()      # idempotent; later calls raise sqlite3.ProgrammingError


def make_db(kind: str, path: str | None = None) -> TaskDB | None:
    """The controller's DB from its configuration: "memory", "sqlite" (needs ``path``) or "none" (no DB)."""
    if kind == "none":
        return None
    if kind == "memory":
        return MemoryDB()
    if kind == "sqlite":
        if not path:
            raise ValueError("the 'sqlite' task database needs a path")
        return SQLiteDB(path)
    raise ValueError(f"unknown task database kind {kind!r}; valid kinds: 'memory', 'sqlite', 'none'")
