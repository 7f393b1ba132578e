"""The embedded runner: everything in one process, state under ``[lake].path``.

Layout of ``[lake].path``::

    state.db          ledger, cursors, registry (SqliteStateStore)
    raw/              raw zone (LocalObjectStore)
    catalog.db        Iceberg SqlCatalog
    warehouse/        Iceberg data and metadata
    .secrets/         local secret store, encrypted (as `splake secrets`; SPLAKE_SECRETS_DIR overrides);
                      its key lives outside the lake (user config dir; SPLAKE_KEY_DIR overrides)
    splake-lake.json  the roots this lake has lived at (a copied/moved lake maps old paths into itself)
    tmp/              downloads in progress (leftovers of a killed run are removed at the next sync)
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from splake.auth.secrets import LocalSecretStore, default_secret_dir, exposed_paths
from splake.config import Settings
from splake.errors import ConflictError
from splake.lake import groupcommit, lakelock
from splake.lake.catalog import open_catalog
from splake.lake.check import interrupted_rebuilds
from splake.lake.damage import damaged_tables, repair_hint
from splake.lake.iceberg import CuratedLake
from splake.lake.leftovers import GRACE_SECONDS, run_marker, sweep
from splake.lake.objectstore import LocalObjectStore
from splake.lake.query import QueryEngine
from splake.lake.raw import RawZone
from splake.lake.root import prepare_root
from splake.ports import SecretStore, StateStore
from splake.runners.context import Context, ReportsClient, utcnow
from splake.runners.stagepool import StagePool
from splake.spapi.client import SpApiClient
from splake.state.sqlite import SqliteStateStore

if TYPE_CHECKING:
    from splake.logs import EventCounter
    from splake.reports.sync import SyncSummary

SECRETS_DIR_ENV = "SPLAKE_SECRETS_DIR"


def lake_root(settings: Settings) -> Path:
    return Path(settings.lake.path).expanduser().resolve()


def default_secrets_dir(settings: Settings) -> Path:
    env = os.environ.get(SECRETS_DIR_ENV)
    return Path(env).expanduser() if env else default_secret_dir(settings)


class LocalContext(Context):
    """A :class:`~splake.runners.context.Context` with local backends."""

    lake_lock: lakelock.LakeLock | None = None  # the writer lock this context holds (see open)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        secrets: SecretStore | None = None,
        client: ReportsClient | None = None,
        lock: bool = True,
    ) -> LocalContext:
        """``lock``: hold the lake's writer lock (shared) until :meth:`aclose` — refused while `splake
        lake rebuild` runs (see :mod:`splake.lake.lakelock`); the rebuild itself passes False."""
        root = prepare_root(settings.lake.path)
        work = root / "tmp"
        work.mkdir(exist_ok=True, mode=0o700)
        state = SqliteStateStore(root / "state.db")
        try:
            objects = LocalObjectStore(root)
            catalog = open_catalog(settings)
            lake = CuratedLake(catalog, settings.lake.namespace)
            held = lakelock.acquire(root, exclusive=False) if lock else None  # before any write
        except BaseException:
            state.close()  # e.g. an unreadable catalog.db: leave no open handle behind
            raise
        store = secrets or LocalSecretStore(default_secrets_dir(settings))
        ctx = cls(
            settings=settings,
            state=state,
            objects=objects,
            raw=RawZone(objects),
            lake=lake,
            client=client or SpApiClient(settings, store),
            clock=utcnow,
            work_dir=work,
            state_write_threads=1,  # (SQLite serialises writes)
        )
        ctx.closers.append(state.close)
        if settings.sync.land_processes > 0:  # started by a sync landing many documents
            pool = StagePool(settings, settings.sync.land_processes, root, hold_lock=lock)
            ctx.stager = pool
            ctx.closers.append(pool.close)
        if held is not None:
            ctx.lake_lock = held
            ctx.closers.append(held.release)
        return ctx

    def query_engine(self) -> QueryEngine:
        return QueryEngine(self.lake.catalog, self.settings.lake.namespace)


THROTTLES_NAMESPACE = "throttles"


def record_throttles(state: StateStore, counts: Mapping[tuple[str, str], int], now: datetime) -> None:
    """Add this run's HTTP 429 counts per (account, operation) to the state (shown by pipeline health)."""
    for (who, op), n in counts.items():
        if n <= 0:
            continue
        for _ in range(5):
            cur = state.get(THROTTLES_NAMESPACE, who, op)
            item = {
                "account_id": who,
                "report_type": f"op:{op}",
                "operation": op,
                "throttled": int((cur or {}).get("throttled", 0)) + n,
                "updated_at": now.isoformat(),
            }
            try:
                state.put(THROTTLES_NAMESPACE, who, op, item, expect_version=cur["_version"] if cur else 0)
                break
            except ConflictError:
                continue


async def run_sync(
    settings: Settings,
    ctx: Context,
    *,
    accounts: Sequence[str] = (),
    report_types: Sequence[str] = (),
    observer: Any = None,
    max_wait_seconds: float | None = None,
) -> SyncSummary:
    """What `splake sync` runs: notification-first for sellers when ``[notifications]`` is enabled and a
    queue is configured (polling stays the fallback, and the only way for vendors), plain polling
    otherwise. This run's 429 counts are kept in the state for the health page."""
    from splake.notifications.local import sync_with_notifications
    from splake.notifications.sqs import open_queue
    from splake.reports.sync import sync

    n = settings.notifications
    if n.enabled and n.queue_url:
        result = await sync_with_notifications(
            settings,
            ctx,
            open_queue(settings),
            accounts=list(accounts) or None,
            report_types=list(report_types) or None,
            observer=observer,
            max_wait_seconds=max_wait_seconds,
        )
        summary: SyncSummary = result.summary
    else:
        summary = await sync(
            settings,
            ctx,
            accounts=accounts,
            report_types=report_types,
            observer=observer,
            max_wait_seconds=max_wait_seconds,
        )
    counts = getattr(ctx.client, "throttle_counts", None)
    if counts:
        record_throttles(ctx.state, counts, ctx.clock())
    return summary


def check_selection(settings: Settings, accounts: Sequence[str], report_types: Sequence[str]) -> None:
    """Fail early, with the fix, on an unknown account id or report type — given on the command line or
    configured (an unknown configured type would otherwise only surface mid-plan)."""
    from splake.reports.types import report_type as check_type

    for t in (*report_types, *settings.sync.report_types):
        check_type(t)
    for acct in settings.accounts:
        for t in acct.report_types or ():
            check_type(t)
    for a in accounts:
        settings.account(a)


async def sync_main(
    settings: Settings,
    *,
    accounts: Sequence[str] = (),
    report_types: Sequence[str] = (),
    max_wait: float | None = None,
    quiet: bool = False,
    log_file: Path | None = None,
) -> int:
    """`splake sync` on the embedded runner: progress, the run, a summary table; returns the exit code.

    The console stays quiet (warnings and errors only; retries and 429s are counted on the progress
    display); ``log_file`` gets every event at the configured ``log_level``. The logging set up for the
    run is undone when it returns (see :func:`splake.logs.cli_logging`)."""
    from splake.logs import cli_logging

    with cli_logging(settings.log_level, log_file, quiet=quiet) as counter:
        return await _sync_main(
            settings,
            counter,
            accounts=accounts,
            report_types=report_types,
            max_wait=max_wait,
            quiet=quiet,
            log_file=log_file,
        )


async def _sync_main(
    settings: Settings,
    counter: EventCounter,
    *,
    accounts: Sequence[str],
    report_types: Sequence[str],
    max_wait: float | None,
    quiet: bool,
    log_file: Path | None,
) -> int:
    import contextlib

    from splake.reports.progress import RichObserver, summary_table, warnings_of, wide_console

    console = wide_console()
    started = time.time()
    ctx = LocalContext.open(settings)
    # what a killed run left behind: only while no other process writes the lake (a writer's staged files
    # look exactly like a killed one's until it commits, however long that takes), older than this run
    held = ctx.lake_lock
    if held is None or held.try_exclusive():
        try:
            # grouped commits a killed run left half-way are finished first: their staged files are
            # not leftovers (and while a record still refers to staged files, no warehouse sweep runs)
            await ctx.committer().recover()
            sweep(
                lake_root(settings),
                ctx.lake.catalog,
                settings.lake.namespace,
                started - GRACE_SECONDS,
                warehouse=False if groupcommit.unfinished(ctx.state) else None,
            )
        finally:
            if held is not None:
                held.share()
    damaged = damaged_tables(ctx.lake.catalog, settings.lake.namespace)
    for table in interrupted_rebuilds(ctx.state):  # killed mid-rebuild: the table holds part of its reports
        damaged.setdefault(table, "a `splake lake rebuild` of it was interrupted")
    selected = runnable_report_types(settings, report_types, damaged)
    for w in exposed_paths(LocalSecretStore(default_secrets_dir(settings))):
        console.print(f"[yellow]warning[/] secret {w}")
    alive = run_marker(lake_root(settings))
    alive.__enter__()
    try:
        with contextlib.nullcontext() if quiet else RichObserver(counter=counter) as obs:
            summary = None
            if selected != ():  # () = every report type lands in a damaged table: nothing to run
                summary = await run_sync(
                    settings,
                    ctx,
                    accounts=accounts,
                    report_types=selected or (),
                    observer=obs,
                    max_wait_seconds=max_wait,
                )
    finally:
        await ctx.aclose()
        alive.__exit__(None, None, None)  # a clean end (a kill leaves the marker as evidence)
    if summary is not None:
        console.print(summary_table(summary))
        if counter.summary():
            console.print(
                f"requests: {counter.summary()}" + (f" (details in {log_file})" if log_file else "")
            )
        for w in warnings_of(summary):
            console.print(f"[yellow]warning[/] {w}")
    for table, reason in sorted(damaged.items()):
        console.print(f"[red]error[/] table {table} is damaged ({reason}); its reports were not synced")
        console.print(f"  → {repair_hint(table.removesuffix('__quarantine'))}")
    return exit_code(summary, damaged)


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3


def exit_code(summary: SyncSummary | None, damaged: Mapping[str, str]) -> int:
    """0 complete; 1 permanent failures or a damaged table; 3 work still pending (``--max-wait`` reached
    or a deferred step) that the next sync resumes. (2 = bad config/usage, from the CLI.)"""
    if damaged or (summary is not None and summary.failures):
        return EXIT_FAILED
    if summary is not None and any(st.pending for st in summary.streams.values()):
        return EXIT_PENDING
    return EXIT_OK


def runnable_report_types(
    settings: Settings, report_types: Sequence[str], damaged: Mapping[str, str]
) -> tuple[str, ...] | None:
    """The report types to sync given the damaged tables: None = all configured ones (nothing damaged),
    else the explicit selection without the types whose table (or quarantine table) is damaged."""
    from splake.reports.planner import report_types_for
    from splake.reports.types import REPORT_TYPES

    if not damaged:
        return tuple(report_types) or None
    wanted = list(report_types) or list(
        dict.fromkeys(t for a in settings.accounts for t in report_types_for(settings, a))
    )
    bad = {t.removesuffix("__quarantine") for t in damaged}
    return tuple(t for t in wanted if t not in REPORT_TYPES or REPORT_TYPES[t].table not in bad)
