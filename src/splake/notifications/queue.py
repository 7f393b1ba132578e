"""A local, durable, at-least-once :class:`splake.ports.Queue` in SQLite (the embedded runner's SQS).

Semantics follow SQS: a received message is invisible for ``visibility_timeout`` seconds, then comes back
with ``receive_count + 1`` unless deleted; ``release`` makes it visible at once. With ``max_receive_count``
set, a message received more often than that moves to the dead-letter queue ``<name>-dlq`` (same file).
Several processes may share the file (writes take an immediate transaction).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from splake.ports import QueueMessage

_SCHEMA = """
create table if not exists queue_messages (
  id text primary key,
  queue text not null,
  body text not null,
  attributes text not null,
  sent_at real not null,
  visible_at real not null,
  receive_count integer not null default 0,
  receipt text
);
create index if not exists queue_messages_visible on queue_messages (queue, visible_at);
"""


class SqliteQueue:
    """Queue ``name`` in the SQLite file ``path``."""

    def __init__(
        self,
        path: str | Path,
        name: str,
        *,
        max_receive_count: int | None = None,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 0.05,
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.dead_letter_name = f"{name}-dlq"
        self.max_receive_count = max_receive_count
        self._clock = clock
        self._poll = poll_interval
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._autocommit() as con:
            con.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("pragma journal_mode=wal")
        con.execute("pragma busy_timeout=30000")
        return con

    @contextmanager
    def _autocommit(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        finally:
            con.close()

    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
        message_id = str(uuid.uuid4())
        now = self._clock()
        with self._autocommit() as con:
            con.execute(
                "insert into queue_messages (id, queue, body, attributes, sent_at, visible_at)"
                " values (?,?,?,?,?,?)",
                (message_id, self.name, body, json.dumps(dict(attributes or {})), now, now),
            )
        return message_id

    def _receive_once(self, max_messages: int, visibility_timeout: int) -> list[QueueMessage]:
        now = self._clock()
        out: list[QueueMessage] = []
        con = self._connect()
        try:
            con.execute("begin immediate")
            rows = con.execute(
                "select id, body, attributes, receive_count from queue_messages "
                "where queue = ? and visible_at <= ? order by sent_at, id limit ?",
                (self.name, now, max_messages * 2 + 10),
            ).fetchall()
            for message_id, body, attrs, count in rows:
                if self.max_receive_count is not None and count >= self.max_receive_count:
                    con.execute(
                        "update queue_messages set queue = ?, visible_at = ?, receipt = null where id = ?",
                        (self.dead_letter_name, now, message_id),
                    )
                    continue
                if len(out) >= max_messages:
                    break
                receipt = f"{message_id}:{uuid.uuid4().hex}"
                con.execute(
                    "update queue_messages set visible_at = ?, receive_count = ?, receipt = ? where id = ?",
                    (now + visibility_timeout, count + 1, receipt, message_id),
                )
                out.append(QueueMessage(message_id, body, receipt, count + 1, json.loads(attrs)))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.close()
        return out

    def receive(
        self, *, max_messages: int = 10, wait_seconds: float = 0, visibility_timeout: int = 60
    ) -> list[QueueMessage]:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            got = self._receive_once(max(1, max_messages), visibility_timeout)
            if got or time.monotonic() >= deadline:
                return got
            time.sleep(min(self._poll, max(0.0, deadline - time.monotonic())))

    def delete(self, receipt: str) -> None:
        with self._autocommit() as con:
            con.execute("delete from queue_messages where receipt = ?", (receipt,))

    def release(self, receipt: str) -> None:
        with self._autocommit() as con:
            con.execute(
                "update queue_messages set visible_at = ? where receipt = ?", (self._clock(), receipt)
            )

    def depth(self) -> int:
        """Messages currently in this queue (visible or in flight)."""
        with self._autocommit() as con:
            row = con.execute("select count(*) from queue_messages where queue = ?", (self.name,)).fetchone()
        return int(row[0])

    def dead_letters(self) -> SqliteQueue:
        """The dead-letter queue of this queue (same file)."""
        return SqliteQueue(self.path, self.dead_letter_name, clock=self._clock, poll_interval=self._poll)
