"""The shared dependencies of the pipeline steps (one object, built by a runner).

``splake.runners.local.LocalContext.open(settings)`` builds it with local backends (SQLite state, local
object store, SqlCatalog); the AWS runner builds the same object with DynamoDB / S3 / Glue backends.
Besides the dependencies it holds per-run caches (getReports listings) and locks — never configuration.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from splake.config import AccountSettings, Settings
from splake.lake.commitrecords import CommitLock, CommitTiming
from splake.lake.groupcommit import GroupCommitter
from splake.lake.iceberg import CuratedLake
from splake.lake.raw import RawZone
from splake.ports import ObjectStore, StateStore
from splake.spapi.download import DownloadInfo


class DocumentStager(Protocol):
    """Stages documents somewhere other than this process's threads (:class:`splake.runners.stagepool.
    StagePool`): ``stage`` returns the :class:`~splake.reports.landing.StagedDocument` that
    ``stage_document(ctx, …)`` would; ``start(documents)`` starts it when a sync of that many documents
    is worth it."""

    started: bool
    workers: int

    def start(self, documents: int | None = None) -> bool: ...

    def retire(self) -> None:
        """No more documents are coming: stop (in the background); later ones are staged in threads."""
        ...

    async def stage(
        self,
        ctx: Any,
        entry: Any,
        path: Path,
        info: Any,
        compression: str | None,
        source_key: str,
        now: datetime,
    ) -> Any: ...


class ReportsClient(Protocol):
    """What the pipeline needs from :class:`splake.spapi.client.SpApiClient`."""

    async def call(
        self,
        account: AccountSettings,
        op: str,
        *,
        path: Any = None,
        params: Any = None,
        json: Any = None,
        rdt_elements: Any = None,
    ) -> Any: ...

    async def download(self, url: str, dest: str | Path) -> DownloadInfo: ...

    async def aclose(self) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    state: StateStore
    objects: ObjectStore
    raw: RawZone
    lake: CuratedLake
    client: ReportsClient
    clock: Callable[[], datetime] = utcnow
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    # per-run caches / coordination (not configuration)
    report_listings: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    closers: list[Callable[[], Any]] = field(default_factory=list)
    commit_timing: CommitTiming = field(default_factory=CommitTiming)
    # a grouped commit writes its records' claims and results this many at a time: round trips overlap on
    # DynamoDB; the local SQLite store serialises writes, where threads only add their start-up and the GIL
    state_write_threads: int = 16
    _committer: GroupCommitter | None = None
    # worker processes staging documents (the local runner's; started by a sync worth it), else threads
    stager: DocumentStager | None = None

    def lock(self, name: str) -> asyncio.Lock:
        lk = self._locks.get(name)
        if lk is None:
            lk = self._locks[name] = asyncio.Lock()
        return lk

    def slots(self, name: str, size: int) -> asyncio.Semaphore:
        """A named semaphore of this run (the first caller sets its size), e.g. CPU-bound ingest slots."""
        sem = self._slots.get(name)
        if sem is None:
            sem = self._slots[name] = asyncio.Semaphore(size)
        return sem

    def commit_lock(self, table: str) -> CommitLock:
        """The lock a grouped commit of ``table`` holds while it commits (the table lock)."""
        return self.lock(f"table:{table}")

    def committer(self) -> GroupCommitter:
        """This context's grouped-commit coordinator (:mod:`splake.lake.groupcommit`)."""
        if self._committer is None:
            self._committer = GroupCommitter(
                self.state, self.lake, self.commit_lock, self.clock, self.commit_timing
            )
            self._committer.state_threads = self.state_write_threads
        return self._committer

    def account(self, account_id: str) -> AccountSettings:
        return self.settings.account(account_id)

    async def aclose(self) -> None:
        await self.client.aclose()
        for close in reversed(self.closers):
            close()
        self.closers.clear()
