"""SQLite backend of :class:`splake.ports.StateStore` (embedded runner).

One table ``items(ns, pk, sk, version, body)``. WAL journal, ``BEGIN IMMEDIATE`` around every
read-check-write, so conditional puts are atomic across threads *and* processes; a process killed
mid-write leaves either the committed item or nothing (SQLite's journal rolls the rest back).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from splake.errors import ConflictError, DiskFullError, FatalError
from splake.ports import Item

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    ns TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (ns, pk, sk)
) WITHOUT ROWID
"""
_RESERVED = ("_version", "_pk", "_sk")


LOW_SPACE_BYTES = 1 << 20


def _disk_full(exc: BaseException, path: Path) -> bool:
    """SQLITE_FULL, or an I/O error (WAL/shared-memory files cannot grow) on a disk with no space left."""
    if "disk is full" in str(exc) or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    if "disk I/O error" in str(exc):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES
    return False


def _disk_full_error(path: Path) -> DiskFullError:
    return DiskFullError(
        f"disk full: could not write the state database {path}",
        where="state store",
        hint="free space on that disk, then run again; nothing was lost (the change was rolled back "
        "and the step is repeated)",
    )


def _escape_like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqliteStateStore:
    """Versioned items in one SQLite file. Safe to share between threads and processes."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL); only an
            # OS crash/power loss can drop the last commits.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            with self._lock:
                self._conn.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if _disk_full(exc, self.path):
                raise _disk_full_error(self.path) from exc
            raise FatalError(
                f"the state database {self.path} is unreadable ({exc})",
                where="state store",
                hint=f"restore it from a backup; or move it aside (`mv {self.path} {self.path}.damaged`) "
                "and sync again: the ledger starts afresh, reports are fetched again and land without "
                "duplicates (same row keys); the raw zone and the tables are untouched",
            ) from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _item(pk: str, sk: str, version: int, body: str) -> Item:
        item: Item = json.loads(body)
        item["_version"] = version
        item["_pk"] = pk
        item["_sk"] = sk
        return item

    def get(self, namespace: str, pk: str, sk: str) -> Item | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT version, body FROM items WHERE ns=? AND pk=? AND sk=?", (namespace, pk, sk)
            ).fetchone()
        return None if row is None else self._item(pk, sk, row[0], row[1])

    def put(
        self, namespace: str, pk: str, sk: str, item: Mapping[str, Any], *, expect_version: int | None = None
    ) -> Item:
        data = {k: v for k, v in item.items() if k not in _RESERVED}
        try:
            body = json.dumps(data, separators=(",", ":"), sort_keys=True)
        except TypeError as exc:
            raise FatalError(
                f"state item is not JSON-serialisable: {exc}",
                where=f"state {namespace}/{pk}/{sk}",
                hint="store only str/int/float/bool/None/list/dict values (format datetimes as ISO strings)",
            ) from None
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT version FROM items WHERE ns=? AND pk=? AND sk=?", (namespace, pk, sk)
                ).fetchone()
                current = 0 if row is None else int(row[0])
                if expect_version is not None and expect_version != current:
                    raise ConflictError(
                        f"state item {namespace}/{pk}/{sk} is at version {current}, "
                        f"expected {expect_version}",
                        where="SqliteStateStore.put",
                        hint="another worker changed it first; reload the item and retry",
                    )
                version = current + 1
                conn.execute(
                    "INSERT OR REPLACE INTO items (ns, pk, sk, version, body) VALUES (?, ?, ?, ?, ?)",
                    (namespace, pk, sk, version, body),
                )
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:  # a failed COMMIT may already have rolled back
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _disk_full(exc, self.path):
                    raise _disk_full_error(self.path) from exc
                raise
        return self._item(pk, sk, version, body)

    def delete(self, namespace: str, pk: str, sk: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM items WHERE ns=? AND pk=? AND sk=?", (namespace, pk, sk))

    def query(self, namespace: str, pk: str, sk_prefix: str = "") -> list[Item]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT sk, version, body FROM items WHERE ns=? AND pk=? AND sk LIKE ? ESCAPE '\\' "
                "ORDER BY sk",
                (namespace, pk, _escape_like(sk_prefix) + "%"),
            ).fetchall()
        # LIKE is case-insensitive for ASCII: keep only true (case-sensitive) prefix matches.
        return [self._item(pk, sk, v, b) for sk, v, b in rows if sk.startswith(sk_prefix)]

    def scan(self, namespace: str) -> Iterator[Item]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT pk, sk, version, body FROM items WHERE ns=? ORDER BY pk, sk", (namespace,)
            ).fetchall()
        for pk, sk, v, b in rows:
            yield self._item(pk, sk, v, b)
