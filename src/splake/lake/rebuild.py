"""`splake lake rebuild [--table T]`: rebuild curated report tables from the raw zone (the source of
truth), with no SP-API call.

For each table: every report the ledger says landed in it is landed again from its raw document, in the
order it first landed and with its original ``ingested_at``, through the same decode → parse → write path
the sync uses (:func:`splake.reports.pipeline.land_document`). Row keys depend only on the account, the
marketplace and the key columns, so the rebuilt table has the same row keys as the original.

Safety: nothing is rebuilt unless every raw document is present. The old table directory is moved aside
(``.<table>.replaced-<time>``) and deleted only after the rebuild committed; a state item marks the rebuild
in progress, so an interrupted one is reported by ``splake lake check`` and simply run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splake.config import Settings
from splake.errors import BadDataError, FatalError
from splake.lake import lakelock
from splake.lake.check import QUARANTINE_SUFFIX, REBUILD_NAMESPACE, landed_by_table
from splake.lake.groupcommit import forget_table
from splake.lake.location import OLD_ROOTS_PROP, file_path, map_path
from splake.lake.raw import META_SUFFIX
from splake.logs import get_logger, log_event

log = get_logger(__name__)


@dataclass(frozen=True)
class RebuildResult:
    table: str
    reports: int
    rows: int
    quarantined: int


def _table_dir(
    catalog_db: Path, root: Path, namespace: str, name: str, old_roots: tuple[str, ...]
) -> Path | None:
    """The directory holding a table's files, from the catalog row (works when the metadata is gone)."""
    try:
        con = sqlite3.connect(f"file:{catalog_db}?mode=ro", uri=True)
        try:
            row = con.execute(
                "SELECT metadata_location FROM iceberg_tables WHERE table_namespace=? AND table_name=?",
                (namespace, name),
            ).fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None
    path = file_path(str(row[0])) if row and row[0] else None
    local = map_path(path, str(root), old_roots) if path else None
    if local is None:
        return None
    table_dir = Path(local).parent.parent  # <table>/metadata/<n>.metadata.json
    return table_dir if table_dir.name == name and str(table_dir).startswith(str(root) + "/") else None


def _set_aside_catalog(root: Path) -> Path | None:
    """Move an unreadable catalog.db aside (kept for inspection); returns where it went."""
    db = root / "catalog.db"
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
        return None
    except sqlite3.DatabaseError:
        dest = root / f"catalog.db.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        os.replace(db, dest)
        log_event(log, "catalog_set_aside", path=str(dest))
        return dest


def rebuild(settings: Settings, tables: list[str] | None = None) -> list[RebuildResult]:
    """Rebuild ``tables`` (default: every report table the ledger has landed reports for)."""
    from splake.lake.root import prepare_root

    root = prepare_root(settings.lake.path)
    # alone on the lake: a report another process landed during the rebuild would be lost
    held = lakelock.acquire(root, exclusive=True)
    try:
        return _rebuild(settings, root, tables)
    finally:
        held.release()


def _rebuild(settings: Settings, root: Path, tables: list[str] | None) -> list[RebuildResult]:
    from splake.runners.local import LocalContext

    set_aside = _set_aside_catalog(root)
    ctx = LocalContext.open(settings, lock=False)
    try:
        from splake.reports import ledger

        landed = landed_by_table(ledger.entries(ctx.state))
        wanted = sorted({t.removesuffix(QUARANTINE_SUFFIX) for t in tables} if tables else set(landed))
        unknown = [t for t in wanted if t not in landed]
        if unknown:
            raise BadDataError(
                f"no landed reports in the ledger for table(s) {', '.join(unknown)}",
                where="splake lake rebuild",
                hint="rebuild works for report tables; tables with landed reports: "
                + (", ".join(sorted(landed)) or "none"),
            )
        missing = [
            key
            for t in wanted
            for e in landed[t]
            for key in (e.raw_key, e.raw_key + META_SUFFIX)  # the document and its sidecar
            if not ctx.objects.exists(key)
        ]
        if missing:
            raise FatalError(
                f"{len(missing)} raw document(s) needed for the rebuild are missing, e.g. {missing[0]}",
                where=f"{root}/raw",
                hint="restore raw/ from a backup first; nothing was changed",
            )
        if set_aside is not None:
            log_event(log, "catalog_recreated", old=str(set_aside))
        return [_rebuild_table(ctx, root, t, landed[t]) for t in wanted]
    finally:
        asyncio.run(ctx.aclose())


def _rebuild_table(ctx: Any, root: Path, table: str, entries: list[Any]) -> RebuildResult:
    from pyiceberg.exceptions import NoSuchTableError

    from splake.lake.raw import RawDocument
    from splake.reports.hold import RawInfo, raw_to_file
    from splake.reports.pipeline import land_document

    lake = ctx.lake
    ns = lake.namespace
    io_roots = tuple(json.loads(lake.catalog.properties.get(OLD_ROOTS_PROP, "[]")))
    marker = {"table": table, "started_at": datetime.now(UTC).isoformat()}
    ctx.state.put(REBUILD_NAMESPACE, "rebuild", table, marker)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    aside: list[Path] = []
    forget_table(ctx.state, table)  # staged writes of killed landers: their files go with the table
    for name in (table, table + QUARANTINE_SUFFIX):
        tdir = _table_dir(root / "catalog.db", root, ns, name, io_roots)
        with contextlib.suppress(NoSuchTableError):
            lake.catalog.drop_table((ns, name))
        lake.migrated.discard(name)  # (a table created again is asked again)
        if tdir is not None and tdir.exists():
            dest = tdir.with_name(f".{name}.replaced-{stamp}")
            os.replace(tdir, dest)
            aside.append(dest)
    ordered = sorted(entries, key=lambda e: (e.ingested_at or datetime.min.replace(tzinfo=UTC), e.key))
    rows = quarantined = 0
    for entry in ordered:  # the same "land from the raw zone" step as `splake reports reland`
        meta = ctx.raw.get_meta(entry.raw_key)
        info = RawInfo(meta.get("content_type"), meta.get("charset"), meta.get("content_encoding"), 0)
        tmp = raw_to_file(RawDocument(entry.raw_key, meta, ctx.objects), ctx.work_dir)
        try:
            n, q = land_document(
                ctx,
                entry,
                tmp,
                info,
                meta.get("compression_algorithm"),
                entry.raw_key,
                entry.ingested_at or datetime.now(UTC),
                force=True,  # these reports were landed (accepted) before: no hold on a rebuild
            )
        finally:
            tmp.unlink(missing_ok=True)
        rows += n
        quarantined += q
    for old in aside:  # this run's and any interrupted run's set-aside directories
        for leftover in old.parent.glob(f".{table}*.replaced-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    ctx.state.delete(REBUILD_NAMESPACE, "rebuild", table)
    log_event(log, "table_rebuilt", table=table, reports=len(ordered), rows=rows)
    return RebuildResult(table, len(ordered), rows, quarantined)
