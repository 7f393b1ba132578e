"""Staging documents in worker processes (the embedded runner's landing of many documents).

Decoding, parsing and staging a document (:func:`splake.reports.landing.stage_document`) is Python-heavy:
in threads it took turns for one GIL with the event loop (HTTP calls, polls, commits), so a sync landing
hundreds of small documents used one core. :class:`StagePool` runs it in ``workers`` processes of their
own (``multiprocessing`` *spawn*: no forked locks or threads), each with its own catalog, lake and state
store on the same lake; the event loop's process keeps everything else — downloads, the raw zone, the
grouped commit, quarantine, ledger and cursor, in :mod:`splake.reports.ingest`'s order.

Crash safety is unchanged: a worker writes only new Parquet files of a staged write (and, for a held
document, its quarantine rows, as the thread did) and hands the :class:`~splake.lake.staged.StagedWrite`
back; nothing is visible until the commit, whose pending record the main process writes first. A worker
holds the lake's writer lock shared (:mod:`splake.lake.lakelock`), so no crash-leftover sweep or rebuild
runs while it may still be writing, and it exits when its parent goes (its queue closes). Its log events
reach the parent's handlers through a queue. A worker that dies (killed, out of memory) breaks the pool:
that document is staged in a thread instead and the next one starts a new pool.

Starting a worker imports Arrow, DuckDB and pyiceberg (~1-2 CPU-seconds): :func:`worth_it` keeps small
syncs in threads.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import logging.handlers
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from splake.config import Settings
from splake.errors import BadDataError, FatalError, RetryableError, SplakeError
from splake.lake import lakelock
from splake.lake.catalog import open_catalog
from splake.lake.iceberg import CuratedLake
from splake.logs import get_logger, log_event
from splake.reports.landing import StagedDocument, stage_document
from splake.reports.ledger import LedgerEntry
from splake.reports.memory import tune_gc
from splake.state.sqlite import SqliteStateStore

log = get_logger(__name__)

MIN_DOCUMENTS = 24  # a sync planning fewer documents stages them in threads (a worker costs ~1-2 CPU-s)


def worth_it(documents: int, workers: int) -> bool:
    """Whether a sync of ``documents`` should start worker processes (pure)."""
    return workers > 0 and documents >= MIN_DOCUMENTS


# --- the worker process ---------------------------------------------------------------------------------


@dataclass
class _Worker:
    """What :func:`stage_document` needs of a context, built once per worker process."""

    settings: Settings
    state: SqliteStateStore
    lake: CuratedLake
    lock: lakelock.LakeLock | None


# A worker process's own context (set by _init_worker in that process only; the parent never sets it).
_WORKER: list[_Worker] = []


def _init_worker(settings: Settings, logs: Any, level: int, lake_root: str, hold_lock: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    root = logging.getLogger("splake")
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(logging.handlers.QueueHandler(logs))
    root.setLevel(level)
    root.propagate = False
    lock = lakelock.acquire(Path(lake_root), exclusive=False) if hold_lock else None
    state = SqliteStateStore(Path(lake_root) / "state.db")
    lake = CuratedLake(open_catalog(settings), settings.lake.namespace)
    _WORKER.append(_Worker(settings, state, lake, lock))
    tune_gc()  # a worker process of ours (see splake.reports.memory)
    atexit.register(_exit_now)  # (registered last: runs first)


def _exit_now() -> None:
    """A worker's last act (at exit, after multiprocessing flushed its queues and the parent has every
    result): leave without the interpreter's teardown of Arrow, DuckDB, pyiceberg and their objects, which
    took ~0.5 s at the end of every sync. Its files are written and closed, its state commits are durable
    (SQLite WAL), its lake lock goes with the process."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _warm() -> int:
    return len(_WORKER)  # (run once per worker at start: the imports and catalog open happen now)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else the nearest splake error with its text (tracebacks stay in the
    worker; an error's class, message, where and hint reach the parent)."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own bytes, this process)
        return exc
    except Exception as bad:
        log_event(log, "stage_error_unpicklable", error=type(exc).__name__, why=str(bad)[:200])
    if isinstance(exc, SplakeError):
        for base in (RetryableError, BadDataError, FatalError):
            if isinstance(exc, base):
                return base(exc.message, where=exc.where, hint=exc.hint)
        return FatalError(exc.message, where=exc.where, hint=exc.hint)
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def _stage(
    entry: LedgerEntry, path: str, info: Any, compression: str | None, source_key: str, now: datetime
) -> tuple[str, Any]:
    ctx: Any = _WORKER[0]  # structurally what stage_document uses of a Context
    started = time.monotonic()
    try:
        staged = stage_document(ctx, entry, Path(path), info, compression, source_key, now)
    except BaseException as exc:
        return ("error", _portable(exc))
    log_event(
        log,
        "document_staged",
        report_id=entry.report_id,
        rows=staged.staged.rows,
        seconds=round(time.monotonic() - started, 4),
    )
    return ("staged", staged)


# --- the parent side ------------------------------------------------------------------------------------


class _Redispatch(logging.Handler):
    """Hands a worker's log record to the parent's logger of the same name (its handlers decide)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


class StagePool:
    """``workers`` staging processes for one context; :meth:`start` once, :meth:`close` at the end."""

    def __init__(self, settings: Settings, workers: int, lake_root: Path, *, hold_lock: bool = True) -> None:
        self.settings = settings
        self.workers = workers
        self.lake_root = lake_root
        self.hold_lock = hold_lock
        self._mp = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None
        self._logs: Any = None
        self._listener: logging.handlers.QueueListener | None = None
        self._lock = threading.Lock()
        self._retiring: list[threading.Thread] = []  # pools shutting down (see retire)
        self.started = False

    def start(self, documents: int | None = None) -> bool:
        """Start the workers now (they import and open the lake while the sync waits for reports), when a
        sync of ``documents`` is :func:`worth_it` (None: regardless); True when they run."""
        if documents is not None and not worth_it(documents, self.workers):
            return self.started
        with self._lock:
            if self._pool is not None:
                return True
            if self._listener is None:
                self._logs = self._mp.Queue()
                self._listener = logging.handlers.QueueListener(self._logs, _Redispatch())
                self._listener.start()
            level = logging.getLogger("splake").getEffectiveLevel()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=self._mp,
                initializer=_init_worker,
                initargs=(self.settings, self._logs, level, str(self.lake_root), self.hold_lock),
            )
            for _ in range(self.workers):
                self._pool.submit(_warm)
            self.started = True
            log_event(log, "stage_pool_started", workers=self.workers)
            return True

    async def stage(
        self,
        ctx: Any,
        entry: LedgerEntry,
        path: Path,
        info: Any,
        compression: str | None,
        source_key: str,
        now: datetime,
    ) -> StagedDocument:
        """:func:`stage_document` in a worker (its errors re-raised here); in a thread of this process
        when the pool broke (a worker died) — the next call starts a new pool."""
        pool = self._pool
        if pool is None:
            self.start()
            pool = self._pool
        assert pool is not None
        loop = asyncio.get_running_loop()
        try:
            kind, value = await loop.run_in_executor(
                pool, _stage, entry, str(path), info, compression, source_key, now
            )
        except BrokenProcessPool:
            log_event(log, "stage_pool_broken", logging.WARNING, report_id=entry.report_id)
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return await asyncio.to_thread(
                stage_document, ctx, entry, path, info, compression, source_key, now
            )
        if kind == "error":
            raise value
        staged: StagedDocument = value
        return staged

    def retire(self) -> None:
        """The sync has no more documents for the workers: they exit now, in the background, while it
        commits its last documents (their exit took ~0.5 s at the end of a sync). A document staged after
        this (a retried landing) is staged in a thread of this process, as before :meth:`start`."""
        with self._lock:
            pool, self._pool = self._pool, None
            self.started = False
        if pool is not None:
            t = threading.Thread(target=pool.shutdown, kwargs={"wait": True}, name="splake-stage-retire")
            t.start()
            self._retiring.append(t)
            log_event(log, "stage_pool_retired", workers=self.workers)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            listener, self._listener = self._listener, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for t in self._retiring:
            t.join()
        self._retiring.clear()
        if listener is not None:
            listener.stop()  # (after the workers exited: their last records are handed on)
