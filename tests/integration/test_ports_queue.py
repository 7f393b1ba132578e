"""Shared Queue port suite: the same behaviour from the local SQLite queue and SQS (moto server)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from splake.notifications.queue import SqliteQueue
from splake.ports import Queue


@pytest.fixture(params=["sqlite", "sqs"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        yield SqliteQueue(tmp_path / "queue.db", "notifications")
    else:
        yield request.getfixturevalue("aws_queue_backend")


def test_implements_port(queue: Any) -> None:
    assert isinstance(queue, Queue)


def test_send_receive_delete(queue: Any) -> None:
    sent = {queue.send(f"m{i}", attributes={"kind": "test", "n": str(i)}) for i in range(3)}
    got = queue.receive(max_messages=10, visibility_timeout=30)
    assert {m.message_id for m in got} == sent
    assert sorted(m.body for m in got) == ["m0", "m1", "m2"]
    assert all(m.receive_count == 1 for m in got)
    assert {m.attributes["n"] for m in got} == {"0", "1", "2"}
    assert all(m.attributes["kind"] == "test" for m in got)
    # in flight: invisible to a second consumer
    assert queue.receive(max_messages=10) == []
    for m in got:
        queue.delete(m.receipt)
    queue.release(got[0].receipt)  # releasing a deleted message is harmless
    assert queue.receive(max_messages=10) == []


def test_visibility_timeout_redelivers_with_higher_count(queue: Any) -> None:
    queue.send("again")
    first = queue.receive(visibility_timeout=1)
    assert [m.body for m in first] == ["again"]
    assert queue.receive() == []
    time.sleep(1.3)
    second = queue.receive(visibility_timeout=30)
    assert [m.body for m in second] == ["again"]
    assert second[0].receive_count == 2


def test_release_makes_message_visible_now(queue: Any) -> None:
    queue.send("retry-me")
    (m,) = queue.receive(visibility_timeout=60)
    queue.release(m.receipt)
    (again,) = queue.receive(visibility_timeout=60)
    assert again.message_id == m.message_id
    assert again.receive_count == 2
    queue.delete(again.receipt)
    assert queue.receive() == []


def test_max_messages_is_respected(queue: Any) -> None:
    for i in range(5):
        queue.send(str(i))
    got = queue.receive(max_messages=2)
    assert len(got) == 2
    rest = queue.receive(max_messages=10)
    assert len(rest) == 3
    assert {m.body for m in got} | {m.body for m in rest} == {"0", "1", "2", "3", "4"}


def test_long_poll_waits_for_a_message(queue: Any) -> None:
    start = time.monotonic()
    assert queue.receive(wait_seconds=1) == []
    assert time.monotonic() - start >= 0.9


def test_sqlite_dead_letter_after_max_receives(tmp_path: Path) -> None:
    q = SqliteQueue(tmp_path / "q.db", "n", max_receive_count=2)
    q.send("poison")
    for _ in range(2):
        (m,) = q.receive()
        q.release(m.receipt)
    assert q.receive() == []  # third receive moves it to the DLQ instead
    dlq = q.dead_letters()
    (dead,) = dlq.receive()
    assert dead.body == "poison"
    assert q.depth() == 0


def test_sqlite_queue_shared_between_instances(tmp_path: Path) -> None:
    a = SqliteQueue(tmp_path / "q.db", "n")
    b = SqliteQueue(tmp_path / "q.db", "n")
    other = SqliteQueue(tmp_path / "q.db", "other")
    a.send("hello")
    assert other.receive() == []
    (m,) = b.receive()
    assert m.body == "hello"
    assert a.receive() == []
