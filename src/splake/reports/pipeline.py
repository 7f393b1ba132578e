"""The pipeline as resumable, idempotent steps driven by the ledger.

Each step is safe to repeat and to run in a fresh process (they become Lambda handlers on AWS):

- :func:`plan` (ctx, now) → work units (pure planning over the stored cursors)
- :func:`request` (ctx, unit, now) → ledger entry: reuse an in-flight / recent report (ledger first, then
  getReports), else createReport. Never re-requests a window whose report is in flight.
- :func:`discover` (ctx, unit, now) → entries for Amazon-generated reports (settlement) found with getReports
- :func:`check` (ctx, entry, now) → one poll of getReport
- :func:`complete` (ctx, report_id, status, document_id) → the shared completion transition (polling and
  REPORT_PROCESSING_FINISHED notifications both call it)
- :func:`ingest` (ctx, entry) → download → raw zone → decode → parse → curated write (+ quarantine) →
  mark ingested → advance the cursor (in that order, so a crash anywhere repeats harmlessly)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.errors import (
    ApiError,
    BadDataError,
    ConflictError,
    ReportFailedError,
    RetryableError,
    SplakeError,
)
from splake.lake.tables import BadRow, Provenance, ReplaceScope
from splake.logs import get_logger, log_event
from splake.reports import cursors, drift, ledger
from splake.reports.attribution import attribute, attribute_document, label_rows
from splake.reports.decode import decoded, python_codec
from splake.reports.formats import iter_document
from splake.reports.hold import DocumentHeldError, check_document, on_held
from splake.reports.ledger import LedgerEntry
from splake.reports.locales import locale_for
from splake.reports.migrate import migrate as migrate_table
from splake.reports.parse import BLOCK_SIZE, RowTooLongError, table_spec
from splake.reports.planner import (
    Window,
    WorkUnit,
    as_utc,
    floor_time,
    iso,
    parse_iso,
    plan_units,
)
from splake.reports.types import REPORT_TYPES, report_type
from splake.runners.context import Context

log = get_logger(__name__)

LISTING_PAGES = 10
INGEST_RETRIES = 3
RELEASE_EVERY = 1  # parsed blocks between arrow memory-pool trims
LAND_PARALLELISM = 2  # documents landed (decode, parse, stage, commit) at once: CPU-bound


# --- plan ---------------------------------------------------------------------------------------------


def plan(
    ctx: Context,
    now: datetime,
    *,
    accounts: tuple[str, ...] | None = None,
    report_types: tuple[str, ...] | None = None,
) -> list[WorkUnit]:
    """Work units for the configured accounts x marketplaces x report types, from the stored cursors."""
    ids = tuple(a.id for a in ctx.settings.accounts if not accounts or a.id in accounts)
    cur = cursors.load_cursors(ctx.state, ids)
    recent = cursors.recently_moved(
        ctx.state, ids, as_utc(now), timedelta(hours=ctx.settings.sync.reuse_done_within_hours)
    )
    return plan_units(ctx.settings, cur, now, accounts=accounts, report_types=report_types, recent=recent)


def unfinished_entries(ctx: Context, accounts: tuple[str, ...] | None = None) -> list[LedgerEntry]:
    """Ledger entries a previous run left in flight or DONE-but-not-ingested (resumed by the next run)."""
    out = []
    for acct in ctx.settings.accounts:
        if accounts and acct.id not in accounts:
            continue
        for e in ledger.entries(ctx.state, acct.id):
            if e.in_flight or e.status == "DONE" or e.status == "NEW":
                out.append(e)
    return out


# --- getReports listing (cached per run) ----------------------------------------------------------------


async def list_reports(
    ctx: Context,
    account_id: str,
    report_type_name: str,
    created_since: datetime,
    statuses: tuple[str, ...] = ("IN_QUEUE", "IN_PROGRESS", "DONE"),
    *,
    refresh: bool = False,
) -> list[dict[str, Any]]:
    """getReports for one (account, type), all pages (``nextToken`` sent alone), cached for the run."""
    key = (account_id, f"{report_type_name}|{','.join(statuses)}|{iso(created_since)}")
    if not refresh and key in ctx.report_listings:
        return ctx.report_listings[key]
    async with ctx.lock(f"list:{key}"):
        if not refresh and key in ctx.report_listings:
            return ctx.report_listings[key]
        account = ctx.account(account_id)
        params: dict[str, Any] = {
            "reportTypes": [report_type_name],
            "processingStatuses": list(statuses),
            "createdSince": iso(created_since),
            "pageSize": 100,
        }
        found: list[dict[str, Any]] = []
        for _ in range(LISTING_PAGES):
            resp = await ctx.client.call(account, "getReports", params=params)
            body = resp.body or {}
            found.extend(body.get("reports") or [])
            token = body.get("nextToken")
            if not token:
                break
            params = {"nextToken": token}
        ctx.report_listings[key] = found
        return found


def _listing_since(ctx: Context, now: datetime) -> datetime:
    s = ctx.settings.sync
    back = max(timedelta(hours=s.reuse_done_within_hours), timedelta(minutes=s.report_timeout_minutes))
    return floor_time(as_utc(now) - min(back, timedelta(days=89)), timedelta(hours=1))


# --- request --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestOutcome:
    entry: LedgerEntry
    action: str  # "created" | "reused" | "resumed" | "fresh" | "cooldown"


async def request(ctx: Context, unit: WorkUnit, now: datetime) -> RequestOutcome:
    """Make sure a report exists for ``unit``; never creates a second one for a window in flight.

    A 403 (the authorization lacks the type's role) fails once, naming the roles that grant the type:
    retrying cannot help until the seller re-authorizes the app with the role."""
    try:
        return await _request(ctx, unit, now)
    except ApiError as exc:
        if exc.status != 403:
            raise
        from splake.accounts.roles import roles_for_report_type

        roles = roles_for_report_type(unit.report_type)
        raise ApiError(
            f"Amazon refused {unit.report_type} for account {unit.account_id} (HTTP 403 {exc.operation}): "
            "the authorization lacks the role this report type needs",
            status=403,
            operation=exc.operation,
            request_id=exc.request_id,
            hint=(
                f"add one of the roles {', '.join(roles) or '(see Amazon role mappings)'} to the app "
                "(Developer Central → Edit App), have the seller authorize it again, or remove "
                f"{unit.report_type} from this account's report_types"
            ),
        ) from None


async def _request(ctx: Context, unit: WorkUnit, now: datetime) -> RequestOutcome:
    s = ctx.settings.sync
    reuse_within = timedelta(hours=s.reuse_done_within_hours)
    entry = ledger.load(ctx.state, unit.account_id, unit.key)
    if entry is not None:
        if entry.in_flight or entry.status == "DONE":
            return RequestOutcome(entry, "resumed")
        if entry.fresh(now, reuse_within):
            return RequestOutcome(entry, "fresh")
        if entry.cooling_down(now):
            return RequestOutcome(entry, "cooldown")
    else:
        entry = ledger.new_entry(unit)
    spec = report_type(unit.report_type)
    listing = await list_reports(  # after an unanswered createReport: a fresh listing, never the cache
        ctx,
        unit.account_id,
        unit.report_type,
        _listing_since(ctx, now),
        refresh=ledger.create_intent_pending(entry),
    )
    taken: set[str] = set()
    while True:  # a candidate already serving another ledger entry (e.g. an earlier snapshot slot) is skipped
        found = ledger.choose_reusable(
            listing,
            unit,
            now,
            end_inclusive=spec.end_inclusive,
            reuse_done_within=reuse_within,
            exclude=frozenset(taken),
        )
        if found is None:
            break
        owner = ledger.find_by_report(ctx.state, str(found["reportId"]), unit.account_id)
        if owner is None or owner.key == unit.key:
            break
        taken.add(str(found["reportId"]))
    if found is not None:
        nxt = ledger.on_report_obtained(
            entry,
            str(found["reportId"]),
            str(found.get("processingStatus")),
            now,
            reused=True,
            document_id=found.get("reportDocumentId"),
            created_time=parse_iso(found.get("createdTime")),
        )
        action = "reused"
    else:
        start, end = ledger.request_window(unit, spec.end_inclusive)
        body: dict[str, Any] = {"reportType": unit.report_type, "marketplaceIds": list(unit.marketplace_ids)}
        if start is not None:
            body["dataStartTime"] = start
            body["dataEndTime"] = end
        if unit.options:
            body["reportOptions"] = dict(unit.options)
        try:  # the intent first: a crash during the call leaves a trace the restart reconciles
            entry = ledger.save(ctx.state, ledger.on_create_intent(entry, now))
        except ConflictError:
            current = ledger.load(ctx.state, unit.account_id, unit.key)
            assert current is not None
            return RequestOutcome(current, "resumed")
        resp = await ctx.client.call(ctx.account(unit.account_id), "createReport", json=body)
        report_id = str((resp.body or {})["reportId"])
        nxt = ledger.on_report_obtained(entry, report_id, "IN_QUEUE", now, reused=False)
        action = "created"
    try:
        saved = ledger.save(ctx.state, nxt)
    except ConflictError:
        current = ledger.load(ctx.state, unit.account_id, unit.key)
        assert current is not None
        return RequestOutcome(current, "resumed")
    log_event(
        log,
        "report_" + action,
        account_id=unit.account_id,
        report_type=unit.report_type,
        marketplaces=list(unit.marketplace_ids),
        window=unit.window.label,
        report_id=saved.report_id,
    )
    return RequestOutcome(saved, action)


# --- discover (settlement) ------------------------------------------------------------------------------


async def discover(ctx: Context, unit: WorkUnit, now: datetime) -> list[LedgerEntry]:
    """Record Amazon-generated DONE reports of ``unit``'s type (e.g. settlements) created since the
    unit's window start; returns the entries still to ingest (in creation order)."""
    since = unit.window.start or (as_utc(now) - timedelta(days=89))
    since = max(since - timedelta(days=1), as_utc(now) - timedelta(days=89))
    listing = await list_reports(ctx, unit.account_id, unit.report_type, since, ("DONE",))
    account = ctx.account(unit.account_id)
    todo: list[LedgerEntry] = []
    for r in sorted(listing, key=lambda r: (str(r.get("createdTime")), str(r.get("reportId")))):
        if r.get("reportType") != unit.report_type:
            continue
        rid = str(r["reportId"])
        where = attribute(r, account.marketplaces)  # the report's own marketplaces, never relabelled
        if where.note:
            log_event(
                log,
                "discovered_report_marketplace",
                logging.WARNING,
                account_id=unit.account_id,
                note=where.note,
            )
        if not where.marketplace_ids:
            continue
        mids = where.marketplace_ids
        end = parse_iso(r.get("dataEndTime")) or parse_iso(r.get("createdTime")) or as_utc(now)
        sub = WorkUnit(
            account_id=unit.account_id,
            report_type=unit.report_type,
            marketplace_ids=mids,
            window=Window(parse_iso(r.get("dataStartTime")), end),
            kind="discover",
            extra={"report_id": rid},
        )
        key = f"{unit.report_type}#report#{rid}"
        entry = ledger.load(ctx.state, unit.account_id, key)
        if entry is None:
            entry = dataclasses.replace(ledger.new_entry(sub), key=key)
            entry = ledger.on_report_obtained(
                entry,
                rid,
                "DONE",
                now,
                reused=True,
                document_id=r.get("reportDocumentId"),
                created_time=parse_iso(r.get("createdTime")),
            )
            with contextlib.suppress(ConflictError):
                entry = ledger.save(ctx.state, entry)
            entry = ledger.load(ctx.state, unit.account_id, key) or entry
        if entry.status == "DONE":
            todo.append(entry)
    return todo


# --- check / complete -----------------------------------------------------------------------------------


def complete(
    ctx: Context,
    report_id: str,
    status: str,
    document_id: str | None,
    *,
    account_id: str | None = None,
    now: datetime | None = None,
    reason: str | None = None,
) -> LedgerEntry | None:
    """Record a report's processing result (from polling or REPORT_PROCESSING_FINISHED). Idempotent;
    returns the entry, or None when the report is not in the ledger (not ours, or not recorded yet)."""
    entry = ledger.find_by_report(ctx.state, report_id, account_id)
    if entry is None:
        log_event(log, "report_completion_unknown", report_id=report_id, status=status)
        return None
    when = now or ctx.clock()
    cooldown = timedelta(minutes=ctx.settings.sync.fatal_cooldown_minutes)
    out = ledger.update(
        ctx.state,
        entry.account_id,
        entry.key,
        lambda e: ledger.on_status(e, report_id, status, document_id, when, cooldown=cooldown, reason=reason),
    )
    if out is not None and out.status != entry.status:
        log_event(
            log,
            "report_completed",
            logging.WARNING if out.status == "FATAL" else logging.INFO,
            account_id=out.account_id,
            report_type=out.unit.report_type,
            report_id=report_id,
            status=out.status,
        )
    return out


async def check(ctx: Context, entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """One poll: re-read the ledger (a notification may have completed it), else getReport once."""
    current = ledger.load(ctx.state, entry.account_id, entry.key) or entry
    if not current.in_flight or current.report_id is None:
        return current
    s = ctx.settings.sync
    if current.requested_at and as_utc(now) - current.requested_at > timedelta(
        minutes=s.report_timeout_minutes
    ):
        cooldown = timedelta(minutes=s.fatal_cooldown_minutes)
        return (
            ledger.update(
                ctx.state, current.account_id, current.key, lambda e: ledger.on_timeout(e, now, cooldown)
            )
            or current
        )
    rid0 = current.report_id
    try:
        resp = await ctx.client.call(ctx.account(current.account_id), "getReport", path={"reportId": rid0})
    except ApiError as exc:
        if exc.status != 404:
            raise
        # Amazon no longer knows the report (older than its retention, or another endpoint): give up on
        # it; the window is requested again after the cooldown instead of being polled forever
        return (
            complete(
                ctx,
                rid0,
                "FATAL",
                None,
                account_id=current.account_id,
                now=now,
                reason=f"report {rid0} not found at Amazon (HTTP 404): expired or unknown",
            )
            or current
        )
    body = resp.body or {}
    status = str(body.get("processingStatus") or "")
    if current.created_time is None and body.get("createdTime"):
        rid, created = current.report_id, parse_iso(body.get("createdTime"))
        current = (
            ledger.update(
                ctx.state, current.account_id, current.key, lambda e: ledger.on_created_time(e, rid, created)
            )
            or current
        )
    if status in ledger.AMAZON_TERMINAL or (status in ledger.IN_FLIGHT and status != current.status):
        done = complete(
            ctx,
            rid0,
            status,
            body.get("reportDocumentId"),
            account_id=current.account_id,
            now=now,
        )
        if done is not None and done.in_flight:
            return (
                ledger.update(
                    ctx.state,
                    done.account_id,
                    done.key,
                    lambda e: ledger.on_poll(e, now, s.poll_initial_seconds, s.poll_max_seconds),
                )
                or done
            )
        return done or current
    return (
        ledger.update(
            ctx.state,
            current.account_id,
            current.key,
            lambda e: ledger.on_poll(e, now, s.poll_initial_seconds, s.poll_max_seconds),
        )
        or current
    )


async def explain_failure(ctx: Context, entry: LedgerEntry) -> LedgerEntry:
    """A FATAL report may carry a document explaining why (Amazon's use-case guide): fetch it (small, best
    effort) and record its text as the entry's reason."""
    if entry.status != "FATAL" or not entry.document_id or entry.report_id is None:
        return entry
    dest = ctx.work_dir / f"splake-fatal-{entry.account_id}-{entry.report_id}-{uuid.uuid4().hex[:8]}"
    try:
        account = ctx.account(entry.account_id)
        doc = await ctx.client.call(
            account, "getReportDocument", path={"reportDocumentId": entry.document_id}
        )
        info = await ctx.client.download(str((doc.body or {})["url"]), dest)
        data = dest.read_bytes()[: 1 << 20]
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)[:4000]
        text = data.decode(python_codec(info.charset or "") or "utf-8", errors="replace").strip()
        with contextlib.suppress(ValueError):
            parsed = json.loads(text)
            if isinstance(parsed, dict) and parsed.get("errorDetails"):
                text = str(parsed["errorDetails"])
    except (SplakeError, OSError, KeyError):
        return entry
    finally:
        dest.unlink(missing_ok=True)
    why = f"Amazon's explanation: {text[:500]}"
    return (
        ledger.update(ctx.state, entry.account_id, entry.key, lambda e: dataclasses.replace(e, reason=why))
        or entry
    )


# --- ingest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    entry: LedgerEntry
    rows: int
    quarantined: int
    raw_key: str | None
    skipped: bool = False  # already ingested (a repeated step)
    reason: str | None = None  # when the report had no document (CANCELLED)


def _provenance(entry: LedgerEntry, source_key: str, now: datetime) -> Provenance:
    w = entry.unit.window
    return Provenance(
        account_id=entry.account_id,
        report_id=entry.report_id or "",
        source_key=source_key,
        ingested_at=now,
        data_start=w.start,
        data_end=w.end if w.start is not None else None,
        marketplace_id=entry.unit.marketplace_ids[0],
        marketplace_ids=entry.unit.marketplace_ids,
    )


def _discovered_tsv(entry: LedgerEntry) -> bool:
    return entry.unit.kind == "discover" and report_type(entry.unit.report_type).format == "tsv"


def land_document(
    ctx: Context,
    entry: LedgerEntry,
    path: Path,
    info: Any,
    compression: str | None,
    source_key: str,
    now: datetime,
    *,
    force: bool = False,
) -> tuple[int, int]:
    """Decode → parse → curated write (+ quarantine). Runs in a worker thread. Raises
    :class:`~splake.reports.hold.DocumentHeldError` (after recording the quarantined rows, with the table
    unchanged) when too many rows were quarantined — unless ``force``."""
    spec = report_type(entry.unit.report_type)
    tspec = table_spec(spec)
    migrate_table(ctx.lake, spec)  # a declared key change rewrites the old rows first (under the table lock)
    prov = _provenance(entry, source_key, now)
    w = entry.unit.window
    scope = ReplaceScope(start=w.start, end=w.end) if w.start is not None else ReplaceScope()
    bad: list[BadRow] = []
    good = [0]
    max_share = ctx.settings.sync.hold_quarantined_share
    with decoded(
        path,
        header_charset=info.charset,
        marketplace_id=entry.unit.marketplace_ids[0],
        compression=compression,
    ) as doc:
        pool = pa.default_memory_pool()
        named = attribute_document(doc.path, entry.unit.marketplace_ids) if _discovered_tsv(entry) else None
        if named is not None:  # a discovered report lands where its document says (never relabelled)
            prov = dataclasses.replace(
                prov, marketplace_id=named.fallback, marketplace_ids=named.marketplace_ids
            )
            if named.note:
                log_event(
                    log, "document_marketplace", logging.WARNING, report_id=entry.report_id, note=named.note
                )

        def batches(block_size: int) -> Iterator[pa.RecordBatch]:
            chunks = iter_document(
                doc.path,
                spec,
                window_start=w.start,
                block_size=block_size,
                locale=locale_for(entry.unit.marketplace_ids[0]),
                check_text=doc.suspect > 0,
            )
            for i, chunk in enumerate(chunks):
                bad.extend(chunk.bad)
                good[0] += chunk.table.num_rows
                table = label_rows(chunk.table, named) if named is not None and named.per_row else chunk.table
                yield from table.to_batches()
                if i % RELEASE_EVERY == 0:
                    pool.release_unused()  # hand freed arrow buffers back to the OS: bounded RSS on GB files
            if not force:  # raised before the lake commits: a bad document leaves the table as it was
                check_document(good[0], bad, max_share, f"{spec.name} report {entry.report_id}")

        if spec.replace == "window" and w.start is None:
            raise BadDataError(f"{spec.name} needs a window but the report has none", where=entry.key)
        block = BLOCK_SIZE
        while True:
            bad.clear()
            good[0] = 0
            try:  # the write is all-or-nothing: a failed attempt leaves the table as it was
                result = ctx.lake.write(tspec, batches(block), prov, scope)
                break
            except DocumentHeldError:
                ctx.lake.quarantine(tspec.name, bad, prov)
                raise
            except RowTooLongError as exc:
                log_event(log, "parse_block_enlarged", report_id=entry.report_id, block=exc.needed_block_size)
                block = exc.needed_block_size
        # layout drift (undeclared / declared-but-absent columns), for `splake reports drift`
        drift.observe_and_record(
            ctx.state, spec, doc.path, entry.unit.marketplace_ids[0], entry.report_id or "", now
        )
    quarantined = ctx.lake.quarantine(tspec.name, bad, prov) if bad else 0
    if bad:
        log_event(
            log,
            "rows_quarantined",
            logging.WARNING,
            table=tspec.name,
            report_id=entry.report_id,
            count=len(bad),
            first_reason=bad[0].reason,
        )
    return result.rows_written, quarantined


async def ingest(ctx: Context, entry: LedgerEntry) -> IngestResult:
    """Land a DONE report: idempotent (an INGESTED entry is a no-op; a crash mid-way repeats safely)."""
    async with ctx.lock(f"ingest:{entry.account_id}:{entry.key}"):  # one lander per entry in this process
        return await _ingest(ctx, entry)


async def _ingest(ctx: Context, entry: LedgerEntry) -> IngestResult:
    current = ledger.load(ctx.state, entry.account_id, entry.key) or entry
    if current.status == "INGESTED":
        _advance(ctx, current)
        return IngestResult(current, current.rows, current.quarantined, current.raw_key, skipped=True)
    if current.status == "CANCELLED":
        _advance(ctx, current)
        return IngestResult(current, 0, 0, None, reason=current.reason)
    if current.status != "DONE" or not current.document_id:
        raise BadDataError(
            f"report {current.report_id} is {current.status}, not DONE with a document",
            where=f"ingest {current.key}",
            hint="ingest runs after check/complete reported DONE",
        )
    account = ctx.account(current.account_id)
    spec = report_type(current.unit.report_type)
    dest = ctx.work_dir / f"splake-{current.account_id}-{current.report_id}-{uuid.uuid4().hex[:8]}.download"
    try:
        for attempt in range(INGEST_RETRIES):
            doc = await ctx.client.call(
                account, "getReportDocument", path={"reportDocumentId": current.document_id}
            )
            body = doc.body or {}
            try:
                info = await ctx.client.download(str(body["url"]), dest)
                break
            except RetryableError:
                if attempt == INGEST_RETRIES - 1:
                    raise
        compression = body.get("compressionAlgorithm")
        meta = {
            "report_id": current.report_id,
            "document_id": current.document_id,
            "report_type": current.unit.report_type,
            "marketplace_ids": list(current.unit.marketplace_ids),
            "data_start": iso(current.unit.window.start),
            "data_end": iso(current.unit.window.end),
            "content_type": info.content_type,
            "charset": info.charset,
            "content_encoding": info.content_encoding,
            "compression_algorithm": compression,
            "format": spec.format if spec.format != "tsv" else "txt",
        }
        ref = await asyncio.to_thread(
            ctx.raw.put_document, current.account_id, "reports", current.report_id or "", dest, meta
        )
        now = ctx.clock()
        # one writer per table; at most LAND_PARALLELISM documents decoded/parsed/written at once (CPU)
        async with ctx.lock(f"table:{spec.table}"), ctx.slots("land", LAND_PARALLELISM):
            try:
                rows, quarantined = await asyncio.to_thread(
                    land_document, ctx, current, dest, info, compression, ref.key, now
                )
            except DocumentHeldError as held_exc:
                good, n_bad, why = held_exc.rows, held_exc.quarantined, held_exc.message
                held = ledger.update(
                    ctx.state,
                    current.account_id,
                    current.key,
                    lambda e: on_held(e, now, rows=good, quarantined=n_bad, raw_key=ref.key, reason=why),
                )
                log_event(log, "report_held", logging.ERROR, report_id=current.report_id, reason=why)
                return IngestResult(held or current, 0, n_bad, ref.key, reason=why)
            except ReportFailedError as exc:
                cooldown = timedelta(minutes=ctx.settings.sync.fatal_cooldown_minutes)
                why = exc.message
                ledger.update(
                    ctx.state,
                    current.account_id,
                    current.key,
                    lambda e: dataclasses.replace(
                        e, status="FATAL", reason=why, completed_at=now, cooldown_until=now + cooldown
                    ),
                )
                raise ReportFailedError(exc.message, where=current.key, hint=exc.hint) from None
    finally:
        dest.unlink(missing_ok=True)
    done = ledger.update(
        ctx.state,
        current.account_id,
        current.key,
        lambda e: (
            ledger.on_ingested(e, now, rows=rows, quarantined=quarantined, raw_key=ref.key)
            if e.status == "DONE"
            else e
        ),
    )
    final = done or current
    _advance(ctx, final)
    log_event(
        log,
        "report_ingested",
        account_id=final.account_id,
        report_type=final.unit.report_type,
        report_id=final.report_id,
        rows=rows,
        quarantined=quarantined,
        raw_key=ref.key,
    )
    return IngestResult(final, rows, quarantined, ref.key)


def _advance(ctx: Context, entry: LedgerEntry) -> None:
    unit = entry.unit
    if unit.kind == "discover":
        return  # discovery cursors move when the whole listing landed (see sync)
    cursors.advance(ctx.state, unit.account_id, unit.stream, unit.cursor_base, unit.window, now=ctx.clock())


def record_ingest_failure(ctx: Context, entry: LedgerEntry, reason: str) -> LedgerEntry:
    now = ctx.clock()
    return (
        ledger.update(
            ctx.state, entry.account_id, entry.key, lambda e: ledger.on_ingest_failed(e, now, reason)
        )
        or entry
    )


def supported(name: str) -> bool:
    return name in REPORT_TYPES
