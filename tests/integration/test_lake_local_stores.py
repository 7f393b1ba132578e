"""Local backends beyond the shared port suites: key validation, atomic publication, races between
processes, and SIGKILL in the middle of state-store writes."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from splake.errors import BadDataError
from splake.lake.objectstore import LocalObjectStore
from splake.state.sqlite import SqliteStateStore

# --- object store -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a\\b", "a/.tmp-x", "..", "a/"])
def test_invalid_keys_are_rejected(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(BadDataError) as exc:
        store.put_bytes(key, b"x")
    assert exc.value.hint
    assert list(tmp_path.rglob("*")) == []  # nothing written anywhere


def test_failed_put_file_leaves_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    with pytest.raises(FileNotFoundError):
        store.put_file("raw/x.gz", tmp_path / "does-not-exist")
    assert not store.exists("raw/x.gz")
    assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []


def test_no_temp_files_are_left_or_listed(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes("raw/a", b"1")
    store.put_bytes("raw/a", b"2")
    store.put_bytes("raw/a", b"3", if_absent=True)
    # a temp file from a writer that crashed mid-put is never listed as an object
    (tmp_path / "raw" / ".tmp-deadbeef").write_bytes(b"partial")
    assert [o.key for o in store.list("raw/")] == ["raw/a"]
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [".tmp-deadbeef", "a"]


def _race_writer(root: str, i: int, start_at: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    store = LocalObjectStore(root)
    while time.time() < start_at:
        pass
    out.put((i, store.put_bytes("race/doc", f"proc-{i}".encode() * 50_000, if_absent=True)))


def test_if_absent_race_between_processes(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 2.0
    procs = [ctx.Process(target=_race_writer, args=(str(tmp_path), i, start_at, q)) for i in range(4)]
    for p in procs:
        p.start()
    results = dict(q.get(timeout=30) for _ in procs)
    for p in procs:
        p.join(10)
    winners = [i for i, won in results.items() if won]
    assert len(winners) == 1
    assert LocalObjectStore(tmp_path).get_bytes("race/doc") == f"proc-{winners[0]}".encode() * 50_000


# --- state store: crashes -----------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from splake.state.sqlite import SqliteStateStore
    store = SqliteStateStore(sys.argv[1])
    big = "x" * 20000
    i = 0
    while True:
        store.put("ledger", "acct", f"item-{i:06d}", {"i": i, "payload": big})
        print(i, flush=True)   # only printed after put() returned, i.e. after COMMIT
        i += 1
    """
)


def test_sigkill_mid_write_keeps_committed_items(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None
    acked: list[int] = []
    while len(acked) < 300:
        line = proc.stdout.readline()
        assert line, "writer died early"
        acked.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    acked += [int(x) for x in proc.stdout.read().split()]

    store = SqliteStateStore(db)
    items = store.query("ledger", "acct", "item-")
    got = [it["i"] for it in items]
    # every acknowledged (committed) write survived; at most one more landed after the last ack
    assert set(acked) <= set(got)
    assert got == list(range(len(got)))
    assert len(got) - len(acked) in (0, 1)
    assert all(it["payload"] == "x" * 20000 and it["_version"] == 1 for it in items)
    # the store is fully usable afterwards (no stale lock) and the file is consistent
    store.put("ledger", "acct", "after-crash", {"ok": True}, expect_version=0)
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


_UNCOMMITTED = textwrap.dedent(
    """
    import os, signal, sys
    from splake.state.sqlite import SqliteStateStore
    store = SqliteStateStore(sys.argv[1])
    store.put("ledger", "acct", "committed", {"v": 1})
    conn = store._conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT OR REPLACE INTO items (ns, pk, sk, version, body) "
        "VALUES ('ledger', 'acct', 'committed', 2, '{\\"v\\":2}')"
    )
    conn.execute(
        "INSERT INTO items (ns, pk, sk, version, body) VALUES ('ledger', 'acct', 'half', 1, '{\\"v\\":9}')"
    )
    os.kill(os.getpid(), signal.SIGKILL)   # dies holding the write lock, transaction open
    """
)


def test_sigkill_with_open_transaction_rolls_back_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    proc = subprocess.run([sys.executable, "-c", _UNCOMMITTED, str(db)], cwd=os.getcwd(), timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = SqliteStateStore(db, busy_timeout_s=5)
    assert store.get("ledger", "acct", "half") is None
    committed = store.get("ledger", "acct", "committed")
    assert committed is not None and committed["v"] == 1 and committed["_version"] == 1
    t0 = time.monotonic()
    store.put("ledger", "acct", "committed", {"v": 3}, expect_version=1)  # lock was released by the crash
    assert time.monotonic() - t0 < 2
    store.close()


def _incrementer(db: str, n: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from splake.errors import ConflictError

    store = SqliteStateStore(db)
    conflicts = 0
    for _ in range(n):
        while True:
            cur = store.get("counters", "c", "n")
            assert cur is not None
            try:
                store.put("counters", "c", "n", {"n": cur["n"] + 1}, expect_version=cur["_version"])
                break
            except ConflictError:
                conflicts += 1
    out.put(conflicts)


def test_conditional_puts_are_atomic_across_processes(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    SqliteStateStore(db).put("counters", "c", "n", {"n": 0})
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_incrementer, args=(db, 40, q)) for _ in range(3)]
    for p in procs:
        p.start()
    [q.get(timeout=60) for _ in procs]  # conflicts are allowed; lost updates are not
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    final = SqliteStateStore(db).get("counters", "c", "n")
    assert final is not None
    assert final["n"] == 120 and final["_version"] == 121
