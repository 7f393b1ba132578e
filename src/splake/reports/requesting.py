"""Reports pipeline, request side: plan work units, reuse what Amazon already has (ledger, then
getReports), else createReport (intent recorded first); discover Amazon-generated reports (settlements)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from splake.errors import (
    ApiError,
    ConflictError,
)
from splake.logs import get_logger, log_event
from splake.reports import cursors, ledger
from splake.reports.attribution import attribute
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import (
    Window,
    WorkUnit,
    as_utc,
    floor_time,
    iso,
    parse_iso,
    plan_units,
)
from splake.reports.types import report_type
from splake.runners.context import Context

log = get_logger(__name__)

LISTING_PAGES = 10


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
        # requested when Amazon accepted it (the call may have waited for createReport's quota): polling
        # expects it done one processing time after this
        nxt = ledger.on_report_obtained(entry, report_id, "IN_QUEUE", ctx.clock(), reused=False)
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
