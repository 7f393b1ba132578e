"""The ports: one interface per external concern, each with a local and an AWS backend.

- :class:`StateStore`  — durable key/value items with optimistic concurrency (SQLite / DynamoDB).
  Holds the report ledger, cursors, the item registry, notification dedup.
- :class:`ObjectStore` — immutable blobs (local directory / S3). Holds the raw zone.
- :class:`SecretStore` — encrypted secrets (AES-GCM key file / Secrets Manager + KMS).
- :class:`Queue`       — at-least-once messages (SQLite / SQS).

Backends live next to their domain: ``splake.state.sqlite``, ``splake.lake.objectstore``,
``splake.auth.secrets``, ``splake.notifications.queue`` (local) and ``splake.runners.aws.backends`` (AWS).
A single shared test suite (tests/integration/test_ports_*.py) runs against both backends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

Item = dict[str, Any]


@runtime_checkable
class StateStore(Protocol):
    """Items addressed by (namespace, partition key, sort key); JSON-serialisable values.

    Every stored item carries an integer ``_version`` (1 on create). ``put`` with ``expect_version``:
    ``0`` = must not exist; ``n`` = current version must be n; ``None`` = unconditional. A failed
    condition raises :class:`splake.errors.ConflictError`.
    """

    def get(self, namespace: str, pk: str, sk: str) -> Item | None: ...

    def put(
        self, namespace: str, pk: str, sk: str, item: Mapping[str, Any], *, expect_version: int | None = None
    ) -> Item:
        """Write and return the stored item (with its new ``_version``)."""
        ...

    def delete(self, namespace: str, pk: str, sk: str) -> None: ...

    def query(self, namespace: str, pk: str, sk_prefix: str = "") -> list[Item]:
        """All items in a partition whose sort key starts with ``sk_prefix``, ordered by sort key.
        Each returned item includes ``_pk`` and ``_sk``."""
        ...

    def scan(self, namespace: str) -> Iterator[Item]:
        """Every item of a namespace (admin/status views; not for hot paths)."""
        ...


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime


@runtime_checkable
class ObjectStore(Protocol):
    """Immutable blobs by key ('raw/reports/…'). ``put_*`` with ``if_absent=True`` never overwrites."""

    def put_bytes(
        self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool:
        """Store; returns False (and writes nothing) when ``if_absent`` and the key exists."""
        ...

    def put_file(
        self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool: ...

    def get_bytes(self, key: str) -> bytes: ...

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...

    def uri(self, key: str) -> str:
        """file:///… or s3://bucket/… for the key."""
        ...


@dataclass(frozen=True)
class SecretInfo:
    name: str
    created_at: datetime
    updated_at: datetime


@runtime_checkable
class SecretStore(Protocol):
    def get(self, name: str) -> str:
        """Raises :class:`splake.errors.SecretNotFoundError` with a hint naming the command to set it."""
        ...

    def put(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...

    def info(self, name: str) -> SecretInfo | None: ...

    def list(self) -> list[SecretInfo]: ...


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    receipt: str
    receive_count: int
    attributes: Mapping[str, str]


@runtime_checkable
class Queue(Protocol):
    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str: ...

    def receive(
        self, *, max_messages: int = 10, wait_seconds: float = 0, visibility_timeout: int = 60
    ) -> list[QueueMessage]: ...

    def delete(self, receipt: str) -> None: ...

    def release(self, receipt: str) -> None:
        """Make the message visible again now (processing failed; let it be retried / go to the DLQ)."""
        ...
