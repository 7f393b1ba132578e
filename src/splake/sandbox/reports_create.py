"""Sandbox Reports API 2021-06-30 ``createReport``: validating the specification and creating the record,
with the outcome (faults, audience, Amazon's rules such as the FBA cooldown) decided up front."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from splake.sandbox.documented_report_types import DOCUMENTED_REPORT_TYPES
from splake.sandbox.prerender import MIN_PROCESSING_SECONDS
from splake.sandbox.report_types import NOT_REQUESTABLE, REPORT_TYPES
from splake.sandbox.reports_state import ReportRecord, parse_time
from splake.sandbox.routing import Caller
from splake.sandbox.state import SandboxState


def validate_create(body: Any, marketplaces: tuple[str, ...], now: datetime) -> dict[str, Any] | str:
    """Pure validation of a CreateReportSpecification; returns the normalized spec or an error message."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object (CreateReportSpecification)."
    rtype = body.get("reportType")
    if not isinstance(rtype, str) or not rtype:
        return "reportType is required."
    if rtype in NOT_REQUESTABLE:
        return (
            f"Report type {rtype} cannot be requested. "
            "Settlement reports are scheduled by Amazon; use getReports to find them."
        )
    if rtype not in REPORT_TYPES and rtype not in DOCUMENTED_REPORT_TYPES:
        return f"Invalid reportType {rtype}."
    mids = body.get("marketplaceIds")
    if not isinstance(mids, list) or not mids or not all(isinstance(m, str) for m in mids):
        return "marketplaceIds is required and must be a non-empty list of marketplace ids."
    if len(mids) > 25:
        return "marketplaceIds may contain at most 25 values."
    bad = [m for m in mids if m not in marketplaces]
    if bad:
        return f"Invalid marketplaceIds: {', '.join(bad)} (the selling partner does not participate in them)."
    try:
        start = parse_time(body["dataStartTime"]) if body.get("dataStartTime") else now
        end = parse_time(body["dataEndTime"]) if body.get("dataEndTime") else now
    except (ValueError, TypeError, AttributeError):
        return "dataStartTime and dataEndTime must be ISO 8601 date-times."
    if start > end:
        return "dataStartTime must be earlier than or equal to dataEndTime."
    if end > now + timedelta(minutes=2):
        return "dataEndTime cannot be in the future."
    options = body.get("reportOptions") or {}
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        return "reportOptions must be an object of string values."
    return {
        "reportType": rtype,
        "marketplaceIds": tuple(mids),
        "start": start,
        "end": end,
        "options": dict(options),
    }


def create_record(state: SandboxState, caller: Caller, spec: dict[str, Any]) -> ReportRecord:
    assert caller.account is not None
    acct = caller.account
    rt = REPORT_TYPES.get(spec["reportType"])
    cfg = state.config
    now = state.now().replace(microsecond=0)
    report_id = str(50_000_000_000 + state.next_id() * 7 + state.config.seed % 7)
    mids = spec["marketplaceIds"][:1] if rt and rt.single_marketplace else spec["marketplaceIds"]
    rec = ReportRecord(
        report_id=report_id,
        selling_partner_id=acct.selling_partner_id,
        account_id=acct.account_id,
        report_type=spec["reportType"],
        marketplace_ids=tuple(mids),
        data_start=spec["start"].replace(microsecond=0),
        data_end=spec["end"].replace(microsecond=0),
        options=spec["options"],
        created=now,
        created_mono=state.monotonic(),
        queue_seconds=state.scaled(cfg.processing_seconds * 0.25),
        work_seconds=state.scaled(cfg.processing_seconds * 0.75),
    )
    # Decisions taken up front (reproducible with the seed): faults, audience, Amazon's rules.
    if rt is None:
        # A documented type the sandbox has no layout for: the world holds no data for it, and Amazon
        # ends a report that finds no data CANCELLED (one of the other audience ends FATAL).
        vendor_type = spec["reportType"].startswith("GET_VENDOR_")
        rec.forced = "FATAL" if vendor_type != (acct.type == "vendor") else "CANCELLED"
    elif rt.audience != acct.type:
        rec.forced = "FATAL"
    elif rt.name in cfg.fatal_report_types or state.chance(cfg.fatal_rate):
        rec.forced, rec.forced_details = "FATAL", "An internal error occurred while processing the report."
        state.stats.count_fault("fatal_report")
    elif state.chance(cfg.cancel_rate):
        rec.forced = "CANCELLED"
        state.stats.count_fault("cancelled_report")
    elif rt.window == "sales_traffic" and rec.data_start < now - timedelta(days=730):
        rec.forced = "CANCELLED"
    elif rt.fba_cooldown and in_cooldown(state, rec):
        rec.forced = "FATAL"  # Amazon gives no reason either
        state.stats.count_fault("fba_cooldown")
    with state.lock:
        state.reports[report_id] = rec
    processing = rec.queue_seconds + rec.work_seconds
    if rt is not None and rec.forced is None and processing >= MIN_PROCESSING_SECONDS:
        # rendered while the report is in progress, as Amazon does (the ticker adopts it at the due time)
        req = state.world.report_request(
            rec.report_type,
            rec.selling_partner_id,
            rec.marketplace_ids,
            rec.data_start,
            rec.data_end,
            rec.options,
            as_of=rec.created,
        )
        state.prerender.submit(report_id, req)
    return rec


def in_cooldown(state: SandboxState, rec: ReportRecord) -> bool:
    """Was the same FBA report (type, seller, marketplaces) requested within the cooldown?"""
    window = state.scaled(state.config.fba_cooldown_seconds)
    if window <= 0:
        return False
    with state.lock:
        return any(
            r.report_type == rec.report_type
            and r.selling_partner_id == rec.selling_partner_id
            and r.marketplace_ids == rec.marketplace_ids
            and r.forced is None
            and rec.created_mono - r.created_mono < window
            for r in state.reports.values()
        )
