"""Tests for pympibridge.parallel._db: ipyparallel's test_db.py behaviours, on both backends."""
import sqlite3
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pympibridge.parallel._db import SCHEMA, MemoryDB, SQLiteDB, TaskDB, make_db

UTC = timezone.utc
T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
N = 16


def record(i, **changes):
    """A typical record, submitted i seconds (and i microseconds, to check precision) after T0."""
    rec = {
        "msg_id": str(uuid.uuid4()),
        "client_uuid": "client-a" if i % 2 == 0 else "client-b",
        "engine_uuid": f"engine-{i % 4}",
        "engine_id": i % 4,
        "method": "apply",
        "submitted": T0 + timedelta(seconds=i, microseconds=i),
    }
    rec.update(changes)
    return rec


def load(db, n, start=0, **changes):
    recs = [record(i, **changes) for i in range(start, start + n)]
    db.add_records(recs)
    return [r["msg_id"] for r in recs]


@pytest.fixture(params=["memory", "sqlite"])
def empty_db(request, tmp_path):
    db = MemoryDB() if request.param == "memory" else SQLiteDB(str(tmp_path / "tasks.db"))
    yield db
    db.close()


@pytest.fixture
def db(empty_db):
    load(empty_db, N)
    return empty_db


def ids(recs):
    return [r["msg_id"] for r in recs]


# -- add / get ---------------------------------------------------------------------------------------------------

def test_add_and_get_full_record(empty_db):
    rec = record(0, status="error", stdout="out", stderr="err", started=T0, completed=T0, received=T0,
                 error={"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": ["a", "b"],
                        "engine_info": {"engine_id": 0}},
                 result_buffers=[b"\x00abc", b"", memoryview(b"xyz")],
                 execute_result={"data": {"text/plain": "42"}, "execution_count": 3})
    empty_db.add_records([rec])
    got = empty_db.get_record(rec["msg_id"])
    assert set(got) == set(SCHEMA)
    assert got == {**dict.fromkeys(SCHEMA), **rec, "result_buffers": [b"\x00abc", b"", b"xyz"]}
    assert all(type(b) is bytes for b in got["result_buffers"])


def test_missing_keys_read_back_as_none(empty_db):
    [msg_id] = load(empty_db, 1)
    got = empty_db.get_record(msg_id)
    for key in ("started", "completed", "received", "status", "stdout", "stderr", "error", "result_buffers",
                "execute_result"):
        assert got[key] is None


def test_empty_buffers_are_not_none(empty_db):
    [msg_id] = load(empty_db, 1, result_buffers=[])
    assert empty_db.get_record(msg_id)["result_buffers"] == []
    assert len(empty_db.find_records({"result_buffers": {"$exists": True}})) == 1


def test_add_record_appends_to_history(db):
    before = db.get_history()
    load(db, 5, start=N)
    after = db.get_history()
    assert len(after) == len(before) + 5
    assert after[:-5] == before
    assert db.size() == N + 5


def test_add_replaces_whole_record(db):
    msg_id = db.get_history()[3]
    db.update_record(msg_id, {"stdout": "old"})
    db.add_records([{"msg_id": msg_id, "method": "execute", "submitted": T0}])
    got = db.get_record(msg_id)
    assert got["method"] == "execute" and got["stdout"] is None and got["engine_id"] is None
    assert db.size() == N


def test_get_records(db):
    hist = db.get_history()
    got = db.get_records([hist[0], "nope", hist[5]])
    assert set(got) == {hist[0], hist[5]}
    assert got[hist[5]] == db.get_record(hist[5])
    assert db.get_records([]) == {}


def test_get_missing_record(db):
    with pytest.raises(KeyError) as exc:
        db.get_record("nope")
    assert exc.value.args[0] == "No such msg_id: 'nope'"


# -- update --------------------------------------------------------------------------------------------------------

def test_update_record(db):
    now = datetime.now(UTC)
    msg_id = db.get_history()[-1]
    rec1 = db.get_record(msg_id)
    data = {"stdout": "hello there", "completed": now, "status": "ok"}
    db.update_record(msg_id, data)
    rec2 = db.get_record(msg_id)
    assert rec2["stdout"] == "hello there"
    assert rec2["completed"] == now
    rec1.update(data)
    assert rec1 == rec2


def test_update_to_none_and_back(db):
    msg_id = db.get_history()[0]
    db.update_record(msg_id, {"engine_id": None, "result_buffers": [b"x"]})
    got = db.get_record(msg_id)
    assert got["engine_id"] is None and got["result_buffers"] == [b"x"]


def test_update_missing_record(db):
    with pytest.raises(KeyError, match="No such msg_id"):
        db.update_record("nope", {"stdout": "x"})
    with pytest.raises(KeyError, match="No such msg_id"):
        db.update_record("nope", {})


def test_update_cannot_change_msg_id(db):
    msg_id = db.get_history()[0]
    db.update_record(msg_id, {"msg_id": msg_id, "stdout": "same id is fine"})
    with pytest.raises(ValueError, match="msg_id"):
        db.update_record(msg_id, {"msg_id": "other"})


# -- find: operators -----------------------------------------------------------------------------------------------

def test_find_records_dt(db):
    """$lt and $gte split the history at a timestamp (ipyparallel's test_find_records_dt)."""
    hist = db.get_history()
    tic = db.get_record(hist[N // 2])["submitted"]
    before = db.find_records({"submitted": {"$lt": tic}})
    after = db.find_records({"submitted": {"$gte": tic}})
    assert len(before) + len(after) == len(hist)
    assert all(b["submitted"] < tic for b in before)
    assert all(a["submitted"] >= tic for a in after)
    same = db.find_records({"submitted": tic})
    assert ids(same) == [hist[N // 2]]


def test_gt_lt_mean_what_they_say(db):
    """$gt is 'value > operand' (ipyparallel's DictDB has it backwards); exact sets, in submitted order."""
    hist = db.get_history()
    tic = db.get_record(hist[5])["submitted"]
    assert ids(db.find_records({"submitted": {"$gt": tic}})) == hist[6:]
    assert ids(db.find_records({"submitted": {"$gte": tic}})) == hist[5:]
    assert ids(db.find_records({"submitted": {"$lt": tic}})) == hist[:5]
    assert ids(db.find_records({"submitted": {"$lte": tic}})) == hist[:6]
    # one microsecond either side of a timestamp
    us = timedelta(microseconds=1)
    assert ids(db.find_records({"submitted": {"$gt": tic - us}})) == hist[5:]
    assert ids(db.find_records({"submitted": {"$lt": tic + us}})) == hist[:6]
    # a non-UTC operand is the same instant
    assert ids(db.find_records({"submitted": {"$gt": tic.astimezone(timezone(timedelta(hours=-5)))}})) == hist[6:]
    # ints too
    assert {r["engine_id"] for r in db.find_records({"engine_id": {"$gt": 1}})} == {2, 3}
    assert {r["engine_id"] for r in db.find_records({"engine_id": {"$lt": 1}})} == {0}


def test_several_ops_and_keys_and_together(db):
    hist = db.get_history()
    lo, hi = (db.get_record(hist[i])["submitted"] for i in (3, 10))
    assert ids(db.find_records({"submitted": {"$gt": lo, "$lte": hi}})) == hist[4:11]
    found = db.find_records({"submitted": {"$gt": lo, "$lte": hi}, "client_uuid": "client-a"})
    assert ids(found) == [hist[i] for i in range(4, 11) if i % 2 == 0]
    assert db.find_records({"engine_id": {"$gt": 2, "$lt": 2}}) == []


def test_find_eq_ne(db):
    hist = db.get_history()
    assert ids(db.find_records({"engine_id": 2})) == [hist[i] for i in range(N) if i % 4 == 2]
    assert ids(db.find_records({"engine_id": {"$eq": 2}})) == [hist[i] for i in range(N) if i % 4 == 2]
    assert ids(db.find_records({"engine_id": {"$ne": 2}})) == [hist[i] for i in range(N) if i % 4 != 2]
    assert len(db.find_records({"msg_id": {"$ne": ""}})) == N


def test_ne_matches_none(db):
    hist = db.get_history()
    db.update_record(hist[0], {"status": "ok"})
    db.update_record(hist[1], {"status": "error"})
    assert ids(db.find_records({"status": {"$ne": "ok"}})) == hist[1:]
    assert ids(db.find_records({"status": "ok"})) == [hist[0]]


def test_null(db):
    """None comparisons (ipyparallel's test_null)."""
    assert db.find_records({"msg_id": None}) == []
    assert len(db.find_records({"msg_id": {"$ne": None}})) == N
    assert len(db.find_records({"completed": None})) == N
    msg_id = db.get_history()[2]
    db.update_record(msg_id, {"completed": T0})
    assert ids(db.find_records({"completed": {"$ne": None}})) == [msg_id]
    assert len(db.find_records({"completed": {"$eq": None}})) == N - 1


def test_ordering_ops_never_match_none(db):
    hist = db.get_history()
    db.update_record(hist[0], {"completed": T0})
    far_past, far_future = T0 - timedelta(days=999), T0 + timedelta(days=999)
    assert ids(db.find_records({"completed": {"$gt": far_past}})) == [hist[0]]
    assert ids(db.find_records({"completed": {"$gte": far_past}})) == [hist[0]]
    assert ids(db.find_records({"completed": {"$lt": far_future}})) == [hist[0]]
    assert ids(db.find_records({"completed": {"$lte": far_future}})) == [hist[0]]
    assert db.find_records({"engine_id": {"$gt": -1}, "completed": {"$lt": far_past}}) == []


def test_find_records_in_nin(db):
    """$in / $nin (ipyparallel's test_find_records_in)."""
    hist = db.get_history()
    even, odd = hist[::2], hist[1::2]
    assert set(ids(db.find_records({"msg_id": {"$in": even}}))) == set(even)
    assert set(ids(db.find_records({"msg_id": {"$nin": even}}))) == set(odd)
    assert db.find_records({"msg_id": {"$in": []}}) == []
    assert len(db.find_records({"msg_id": {"$nin": []}})) == N
    assert {r["engine_id"] for r in db.find_records({"engine_id": {"$in": (1, 3)}})} == {1, 3}
    tics = {db.get_record(m)["submitted"] for m in odd}
    assert ids(db.find_records({"submitted": {"$in": tics}})) == odd


def test_in_nin_with_none(db):
    hist = db.get_history()
    db.update_record(hist[0], {"status": "ok"})
    db.update_record(hist[1], {"status": "aborted"})
    assert ids(db.find_records({"status": {"$in": ["ok", None]}})) == [hist[0], *hist[2:]]
    assert ids(db.find_records({"status": {"$in": ["ok"]}})) == [hist[0]]
    assert ids(db.find_records({"status": {"$nin": ["ok"]}})) == hist[1:]          # None is not in ['ok']
    assert ids(db.find_records({"status": {"$nin": ["ok", None]}})) == [hist[1]]


def test_large_in(db):
    """A long $in (the controller purges by msg_id list) must not hit SQLite's bound-variable limit."""
    hist = db.get_history()
    wanted = [str(uuid.uuid4()) for _ in range(40_000)] + hist[:3]
    assert ids(db.find_records({"msg_id": {"$in": wanted}})) == hist[:3]
    assert set(db.get_records(wanted)) == set(hist[:3])
    assert db.drop_matching_records({"msg_id": {"$nin": wanted}}) == N - 3


def test_exists(db):
    hist = db.get_history()
    db.update_record(hist[4], {"error": {"ename": "E", "evalue": "", "traceback": [], "engine_info": {}}})
    assert ids(db.find_records({"error": {"$exists": True}})) == [hist[4]]
    assert len(db.find_records({"error": {"$exists": False}})) == N - 1
    assert ids(db.find_records({"error": {"$ne": None}})) == [hist[4]]
    assert len(db.find_records({"msg_id": {"$exists": True}})) == N
    assert db.find_records({"stdout": {"$exists": True}}) == []


def test_empty_query_matches_all(db):
    assert ids(db.find_records({})) == db.get_history()


# -- find: keys ----------------------------------------------------------------------------------------------------

def test_find_records_keys(db):
    found = db.find_records({"msg_id": {"$ne": ""}}, keys=["submitted", "completed"])
    assert len(found) == N
    for rec in found:
        assert list(rec) == ["msg_id", "submitted", "completed"]
        assert isinstance(rec["submitted"], datetime) and rec["completed"] is None


def test_find_records_msg_id_always_included(db):
    for keys in (["submitted", "completed"], ["submitted"], ["msg_id"], ["engine_id", "msg_id"], []):
        for rec in db.find_records({"msg_id": {"$ne": ""}}, keys=keys):
            assert rec["msg_id"] in db.get_history()
            assert set(rec) == {"msg_id", *keys}


# -- copies ----------------------------------------------------------------------------------------------------------

def test_results_are_copies(db):
    """Editing results must not affect the DB (ipyparallel's test_pop_safe_*)."""
    msg_id = db.get_history()[-1]
    db.update_record(msg_id, {"error": {"ename": "E", "evalue": "v", "traceback": ["t"], "engine_info": {}},
                              "result_buffers": [b"abc"]})
    for rec in (db.get_record(msg_id), db.find_records({"msg_id": msg_id})[0],
                db.find_records({"msg_id": msg_id}, keys=["error", "result_buffers"])[0],
                db.get_records([msg_id])[msg_id]):
        rec["error"]["ename"] = "fubar"
        rec["error"]["traceback"].append("more")
        rec["result_buffers"].pop()
        rec["garbage"] = "hello"
    rec = db.get_record(msg_id)
    assert rec["error"] == {"ename": "E", "evalue": "v", "traceback": ["t"], "engine_info": {}}
    assert rec["result_buffers"] == [b"abc"]
    assert "garbage" not in rec


# -- drop ----------------------------------------------------------------------------------------------------------

def test_drop_record(db):
    msg_id = load(db, 1, start=N)[-1]
    db.get_record(msg_id)
    db.drop_record(msg_id)
    with pytest.raises(KeyError, match="No such msg_id"):
        db.get_record(msg_id)
    with pytest.raises(KeyError, match="No such msg_id"):
        db.drop_record(msg_id)
    assert db.size() == N


def test_drop_matching(db):
    msg_ids = load(db, 10, start=N)
    query = {"msg_id": {"$in": msg_ids}}
    assert db.drop_matching_records(query) == 10
    assert db.find_records(query) == []
    assert db.size() == N
    assert db.drop_matching_records(query) == 0
    assert db.drop_matching_records({"engine_id": {"$gte": 2}}) == N // 2
    assert db.drop_matching_records({}) == N // 2
    assert db.size() == 0 and db.get_history() == []


# -- history and datetimes -------------------------------------------------------------------------------------------

def test_get_history(db):
    hist = db.get_history()
    times = [db.get_record(m)["submitted"] for m in hist]
    assert times == sorted(times) and len(hist) == N
    [msg_id] = load(db, 1, start=N)
    assert db.get_history()[-1] == msg_id


def test_history_orders_by_submitted_not_insertion(empty_db):
    recs = [record(i) for i in (5, 1, 9, 3)]
    empty_db.add_records(recs)
    late = record(7)
    empty_db.add_records([late])
    assert empty_db.get_history() == [recs[1]["msg_id"], recs[3]["msg_id"], recs[0]["msg_id"],
                                      late["msg_id"], recs[2]["msg_id"]]
    assert ids(empty_db.find_records({})) == empty_db.get_history()


def test_history_ties_and_missing_submitted(empty_db):
    """Equal timestamps keep insertion order; a record without submitted sorts first (as SQLite sorts NULL)."""
    a, b, c = record(1), record(1), record(0, submitted=None)
    empty_db.add_records([a, b, c])
    assert empty_db.get_history() == [c["msg_id"], a["msg_id"], b["msg_id"]]


def test_datetime_round_trip(empty_db):
    times = [
        datetime(2024, 1, 1, tzinfo=UTC),                                   # no microseconds
        datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 6, 1, 12, 0, 0, 500, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=UTC),                          # year < 1000
        datetime.now(UTC),
    ]
    recs = [record(0, submitted=t, started=t, completed=t, received=t) for t in times]
    empty_db.add_records(recs)
    for rec, t in zip(recs, times):
        got = empty_db.get_record(rec["msg_id"])
        for key in ("submitted", "started", "completed", "received"):
            assert got[key] == t
            assert got[key].utcoffset() == timedelta(0)
            assert got[key].replace(tzinfo=None) == t.astimezone(UTC).replace(tzinfo=None)
    # and they order by instant, not by their text
    assert empty_db.get_history() == [recs[i]["msg_id"] for i in (4, 2, 0, 1, 3, 5)]


def test_datetime(db):
    """get/set timestamps with datetime objects (ipyparallel's test_datetime)."""
    msg_id = db.get_history()[-1]
    assert isinstance(db.get_record(msg_id)["submitted"], datetime)
    db.update_record(msg_id, {"completed": datetime.now(UTC)})
    assert isinstance(db.get_record(msg_id)["completed"], datetime)


# -- errors ----------------------------------------------------------------------------------------------------------

def test_bad_operator(db):
    with pytest.raises(ValueError, match=r"unknown query operator '\$glob'.*valid operators"):
        db.find_records({"msg_id": {"$glob": "a*"}})
    with pytest.raises(ValueError, match="unknown query operator"):
        db.drop_matching_records({"msg_id": {"$ne": "", "gt": 1}})
    assert db.size() == N


def test_unknown_keys(db):
    with pytest.raises(ValueError, match="unknown query key 'label'.*valid keys: msg_id, client_uuid"):
        db.find_records({"label": "x"})
    with pytest.raises(ValueError, match="unknown task record key 'header'.*valid keys:"):
        db.add_records([{**record(0), "header": {}}])
    with pytest.raises(ValueError, match="unknown task record key 'label'"):
        db.update_record(db.get_history()[0], {"label": "x"})
    with pytest.raises(ValueError, match="unknown task record key 'buffers'"):
        db.find_records({}, keys=["buffers"])


def test_bad_values(db):
    bad = [
        {"engine_id": "3"}, {"engine_id": True}, {"stdout": b"bytes"}, {"status": "pending"},
        {"submitted": "2024-01-01"}, {"submitted": datetime(2024, 1, 1)},            # naive datetime
        {"error": "boom"}, {"error": {"x": object()}}, {"result_buffers": [b"ok", "str"]}, {"result_buffers": b"x"},
    ]
    for changes in bad:
        with pytest.raises(ValueError):
            db.add_records([record(0, **changes)])
        with pytest.raises(ValueError):
            db.update_record(db.get_history()[0], changes)
    with pytest.raises(ValueError, match="msg_id"):
        db.add_records([{"method": "apply"}])
    # a bad record in a batch adds nothing
    with pytest.raises(ValueError):
        db.add_records([record(0), record(1, engine_id="x")])
    assert db.size() == N


def test_bad_queries(db):
    tic = T0
    for query in [
        {"submitted": {"$gt": None}},            # ordering against None is meaningless
        {"submitted": {"$lt": "2024"}},          # wrong type for the key
        {"submitted": datetime(2024, 1, 1)},      # naive
        {"engine_id": {"$in": "0123"}},           # $in needs a list
        {"engine_id": {"$in": ["0"]}},
        {"error": {"$eq": {"ename": "E"}}},       # dicts/buffers: only None or $exists
        {"error": {"$gt": tic}},
        {"result_buffers": {"$in": [None]}},
        {"msg_id": {"$exists": 1}},
        {"msg_id": {}},
    ]:
        with pytest.raises(ValueError):
            db.find_records(query)


def test_sql_injection_is_just_data(db):
    nasty = "x'); DROP TABLE tasks; --\""
    db.add_records([record(0, msg_id=nasty, stdout=nasty)])
    assert db.get_record(nasty)["stdout"] == nasty
    assert ids(db.find_records({"stdout": nasty})) == [nasty]
    assert db.size() == N + 1


# -- threads ---------------------------------------------------------------------------------------------------------

def test_concurrent_use(empty_db):
    def work(t):
        for i in range(50):
            [msg_id] = load(empty_db, 1, start=i)
            empty_db.update_record(msg_id, {"stdout": f"{t}-{i}", "completed": T0})
            empty_db.find_records({"engine_id": {"$gt": 1}}, keys=["stdout"])
            if i % 5 == 0:
                empty_db.drop_record(msg_id)
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert empty_db.size() == 4 * 40
    assert len(empty_db.find_records({"stdout": {"$exists": True}, "completed": T0})) == 160


# -- SQLite specifics, make_db ---------------------------------------------------------------------------------------

def test_sqlite_persists_across_reopen(tmp_path):
    path = str(tmp_path / "tasks.db")
    db = SQLiteDB(path)
    msg_ids = load(db, 5, result_buffers=[b"r"], error={"ename": "E"})
    db.update_record(msg_ids[1], {"completed": T0})
    expected = [db.get_record(m) for m in msg_ids]
    db.close()
    db.close()                                  # idempotent
    with pytest.raises(sqlite3.ProgrammingError):
        db.size()
    db = SQLiteDB(path)
    try:
        assert db.get_history() == msg_ids
        assert [db.get_record(m) for m in msg_ids] == expected
        assert ids(db.find_records({"completed": {"$ne": None}})) == [msg_ids[1]]
    finally:
        db.close()


def test_sqlite_table_layout(tmp_path):
    path = str(tmp_path / "t.db")
    db = SQLiteDB(path, table="my_tasks")
    load(db, 3)
    db.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [row[1] for row in conn.execute("PRAGMA table_info(my_tasks)")] == list(SCHEMA)
        indexed = {conn.execute(f"PRAGMA index_info('{row[1]}')").fetchone()[2]
                   for row in conn.execute("PRAGMA index_list(my_tasks)")}
        assert indexed == {"msg_id", "submitted"}
        assert conn.execute("SELECT count(*) FROM my_tasks").fetchone()[0] == 3
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM my_tasks WHERE msg_id IS ? ORDER BY submitted, rowid", ["x"]))
        assert "USING INDEX" in plan and "(msg_id=?)" in plan      # the primary key's index
    finally:
        conn.close()
    # another table in the same file is independent
    other = SQLiteDB(path)
    assert other.size() == 0
    other.close()


def test_sqlite_rejects_bad_table(tmp_path):
    with pytest.raises(ValueError, match="invalid table name"):
        SQLiteDB(str(tmp_path / "t.db"), table="tasks; DROP TABLE x")
    conn = sqlite3.connect(str(tmp_path / "old.db"))
    conn.execute("CREATE TABLE tasks (msg_id TEXT, header TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ValueError, match="has columns"):
        SQLiteDB(str(tmp_path / "old.db"))


def test_make_db(tmp_path):
    assert make_db("none", None) is None
    mem = make_db("memory", None)
    assert isinstance(mem, MemoryDB) and isinstance(mem, TaskDB)
    sql = make_db("sqlite", str(tmp_path / "m.db"))
    assert isinstance(sql, SQLiteDB) and isinstance(sql, TaskDB)
    sql.close()
    with pytest.raises(ValueError, match="needs a path"):
        make_db("sqlite", None)
    with pytest.raises(ValueError, match="valid kinds: 'memory', 'sqlite', 'none'"):
        make_db("mongodb", None)
