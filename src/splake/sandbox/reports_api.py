"""Reports API 2021-06-30: createReport, getReports, getReport, cancelReport, getReportDocument,
plus the processing lifecycle (``tick``) and REPORT_PROCESSING_FINISHED notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.logs import get_logger, log_event
from splake.sandbox import documents
from splake.sandbox.documented_report_types import DOCUMENTED_REPORT_TYPES
from splake.sandbox.notify import iso_now
from splake.sandbox.render_flat import ReportRequest
from splake.sandbox.render_json import ReportFatal
from splake.sandbox.report_types import NOT_REQUESTABLE, REPORT_TYPES
from splake.sandbox.reports_render import render_gzip_to
from splake.sandbox.reports_state import (
    DocumentRecord,
    ReportRecord,
    document_id_for,
    parse_time,
    report_json,
)
from splake.sandbox.responses import bad_request, not_found, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState

log = get_logger(__name__)

BASE = "/reports/2021-06-30"
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
RETENTION = timedelta(days=90)
SETTLEMENT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# settlement layouts served (discoverable only) and the first digit of their report ids
SETTLEMENT_REPORT_PREFIX = {SETTLEMENT_TYPE: "6", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": "7"}


def _list_param(request: Request, name: str) -> list[str] | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _region_of(account_region: str) -> str:
    return {"NA": "na", "EU": "eu", "FE": "fe"}.get(account_region, "na")


# --- createReport -------------------------------------------------------------------------------------


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


# --- lifecycle ----------------------------------------------------------------------------------------


def _request_for(state: SandboxState, rec: ReportRecord) -> ReportRequest:
    return state.world.report_request(
        rec.report_type,
        rec.selling_partner_id,
        rec.marketplace_ids,
        rec.data_start,
        rec.data_end,
        rec.options,
        as_of=rec.created,
    )


def _write_error_document(state: SandboxState, rec: ReportRecord, details: str) -> None:
    import gzip

    doc_id = document_id_for(state.config.seed, rec.report_id, state.world.account(rec.account_id).region)
    path = state.doc_dir / f"{doc_id}.gz"
    path.write_bytes(gzip.compress(json.dumps({"errorDetails": details}).encode(), mtime=0))
    state.documents[doc_id] = DocumentRecord(
        doc_id,
        rec.selling_partner_id,
        rec.report_id,
        rec.report_type,
        "application/json",
        path,
        None,
        path.stat().st_size,
    )
    rec.document_id = doc_id


def finalize(state: SandboxState, rec: ReportRecord) -> None:
    """Render the document and settle the final status (runs in the ticker thread)."""
    rt = REPORT_TYPES.get(rec.report_type)
    status = rec.forced
    if status == "FATAL" and rec.forced_details:
        _write_error_document(state, rec, rec.forced_details)
    elif status is None and rt is not None:
        req = _request_for(state, rec)
        doc_id = document_id_for(state.config.seed, rec.report_id, state.world.account(rec.account_id).region)
        path = state.doc_dir / f"{doc_id}.gz"
        try:
            info = render_gzip_to(path, req, cache=True)
        except ReportFatal as exc:
            _write_error_document(state, rec, exc.details)
            status = "FATAL"
        else:
            rec.rows = info.rows
            if rt.cancel_when_empty and info.rows == 0:
                path.unlink(missing_ok=True)
                status = "CANCELLED"
            else:
                state.documents[doc_id] = DocumentRecord(
                    doc_id,
                    rec.selling_partner_id,
                    rec.report_id,
                    rec.report_type,
                    info.content_type,
                    path,
                    None,
                    info.gzip_bytes,
                )
                rec.document_id = doc_id
                status = "DONE"
    rec.status = status or "FATAL"
    rec.processing_start = rec.created + timedelta(seconds=rec.queue_seconds)
    rec.processing_end = state.now().replace(microsecond=0)
    rec.finalized = True
    log_event(
        log,
        "sandbox_report_finished",
        report_id=rec.report_id,
        report_type=rec.report_type,
        status=rec.status,
    )
    notify_finished(state, rec)


def notify_finished(state: SandboxState, rec: ReportRecord) -> int:
    acct = state.world.account(rec.account_id)
    if acct.type != "seller":
        return 0  # vendors cannot subscribe to REPORT_PROCESSING_FINISHED: they poll

    def build(meta: dict[str, str]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "sellerId": rec.selling_partner_id,
            "accountId": acct.notification_account_id,
            "reportId": rec.report_id,
            "reportType": rec.report_type,
            "processingStatus": rec.status,
        }
        if rec.document_id:
            payload["reportDocumentId"] = rec.document_id
        return {
            "notificationVersion": "2020-09-04",
            "notificationType": "REPORT_PROCESSING_FINISHED",
            "payloadVersion": "2020-09-04",
            "eventTime": iso_now(state.now()),
            "payload": {"reportProcessingFinishedNotification": payload},
            "notificationMetadata": meta,
        }

    return state.publish_notification("REPORT_PROCESSING_FINISHED", rec.selling_partner_id, build)


def tick(state: SandboxState) -> None:
    """Advance report processing (IN_QUEUE → IN_PROGRESS → DONE/FATAL/CANCELLED) and notify."""
    now_mono = state.monotonic()
    with state.lock:
        due = [r for r in state.reports.values() if r.due(now_mono)]
    for rec in sorted(due, key=lambda r: r.created_mono):
        try:
            finalize(state, rec)
        except Exception as exc:  # never leave a report stuck because of a sandbox bug
            log_event(log, "sandbox_report_render_failed", report_id=rec.report_id, error=repr(exc))
            rec.status, rec.finalized = "FATAL", True
            rec.processing_end = state.now().replace(microsecond=0)


# --- settlements (pre-generated, discoverable only) -----------------------------------------------------


def ensure_settlements(
    state: SandboxState, caller: Caller, now: datetime, report_type: str = SETTLEMENT_TYPE
) -> None:
    """Amazon generates each settlement in both flat layouts (V2 and the older V1): one report per layout."""
    acct = caller.account
    if acct is None or acct.type != "seller":
        return
    periods = state.world.settlements(acct.selling_partner_id, now - RETENTION, now)
    region = acct.region
    prefix = SETTLEMENT_REPORT_PREFIX[report_type]
    with state.lock:
        for p in periods:
            rid = prefix + str(
                int(hashlib.sha256(f"{p.settlement_id}".encode()).hexdigest(), 16) % 10**10
            ).zfill(10)
            if rid in state.reports:
                continue
            created = p.available.replace(microsecond=0)
            rec = ReportRecord(
                report_id=rid,
                selling_partner_id=acct.selling_partner_id,
                account_id=acct.account_id,
                report_type=report_type,
                marketplace_ids=(p.marketplace_id,),
                data_start=p.start,
                data_end=p.end,
                options={},
                created=created,
                created_mono=0.0,
                queue_seconds=0.0,
                work_seconds=0.0,
                status="DONE",
                finalized=True,
                processing_start=created - timedelta(minutes=30),
                processing_end=created,
            )
            doc_id = document_id_for(state.config.seed, rid, region)
            req = state.world.report_request(
                report_type,
                acct.selling_partner_id,
                (p.marketplace_id,),
                p.start,
                p.end,
                {},
                as_of=created,
            )
            from splake.sandbox.reports_render import encoding_of

            state.documents[doc_id] = DocumentRecord(
                doc_id, acct.selling_partner_id, rid, report_type, encoding_of(req)[0], None, req
            )
            rec.document_id = doc_id
            state.reports[rid] = rec


# --- getReports paging ----------------------------------------------------------------------------------


def encode_token(state: SandboxState, query: dict[str, Any]) -> str:
    raw = json.dumps(query, sort_keys=True, separators=(",", ":")).encode()
    sig = hmac.new(state.signing_key, raw, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(raw + sig).decode().rstrip("=")


def decode_token(state: SandboxState, token: str) -> dict[str, Any] | None:
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    raw, sig = data[:-12], data[-12:]
    if not hmac.compare_digest(hmac.new(state.signing_key, raw, hashlib.sha256).digest()[:12], sig):
        return None
    try:
        q: dict[str, Any] = json.loads(raw)
    except ValueError:
        return None
    return q


def parse_get_reports(request: Request, now: datetime) -> dict[str, Any] | str:
    q = request.query_params
    types = _list_param(request, "reportTypes")
    if not types:
        return "Either reportTypes or nextToken is required."
    if len(types) > 10:
        return "reportTypes may contain at most 10 values."
    statuses = _list_param(request, "processingStatuses") or []
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        return f"Invalid processingStatuses: {', '.join(bad)}."
    mids = _list_param(request, "marketplaceIds") or []
    if len(mids) > 10:
        return "marketplaceIds may contain at most 10 values."
    try:
        page_size = int(q.get("pageSize", "10"))
    except ValueError:
        return "pageSize must be an integer between 1 and 100."
    if not 1 <= page_size <= 100:
        return "pageSize must be an integer between 1 and 100."
    try:
        since = parse_time(q["createdSince"]) if q.get("createdSince") else now - RETENTION
        until = parse_time(q["createdUntil"]) if q.get("createdUntil") else now
    except ValueError:
        return "createdSince and createdUntil must be ISO 8601 date-times."
    if since < now - RETENTION - timedelta(minutes=5):
        return "createdSince cannot be more than 90 days in the past."
    return {
        "types": types,
        "statuses": statuses,
        "mids": mids,
        "pageSize": page_size,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "offset": 0,
    }


# --- routes -----------------------------------------------------------------------------------------------


def routes(state: SandboxState) -> list[Route]:
    def own(caller: Caller, report_id: str) -> ReportRecord | None:
        rec: ReportRecord | None = state.reports.get(report_id)
        if rec is None or rec.selling_partner_id != caller.selling_partner_id:
            return None
        return rec

    async def create_report(request: Request, caller: Caller) -> Response:
        if request.headers.get("content-type", "application/json").split(";")[0].strip() not in {
            "application/json",
            "",
        }:
            return Response(
                json.dumps(
                    {"errors": [{"code": "UnsupportedMediaType", "message": "Unsupported Media Type"}]}
                ),
                status_code=415,
                media_type="application/json",
            )
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return bad_request("Request body is not valid JSON.")
        assert caller.account is not None
        spec = validate_create(body, caller.account.marketplace_ids, state.now())
        if isinstance(spec, str):
            return bad_request(spec)
        rec = create_record(state, caller, spec)
        return sp_json({"reportId": rec.report_id}, status=202)

    async def get_reports(request: Request, caller: Caller) -> Response:
        now = state.now()
        token = request.query_params.get("nextToken")
        if token is not None:
            others = [k for k in request.query_params if k != "nextToken"]
            if others:
                return bad_request(
                    "When nextToken is specified, no other parameters may be specified.",
                    f"Remove the parameters {', '.join(sorted(set(others)))}; "
                    "nextToken carries the original query.",
                )
            query = decode_token(state, token)
            if query is None or query.get("spid") != caller.selling_partner_id:
                return bad_request(
                    "Invalid nextToken.", "The nextToken is malformed or belongs to another query."
                )
        else:
            parsed = parse_get_reports(request, now)
            if isinstance(parsed, str):
                return bad_request(parsed)
            query = {**parsed, "spid": caller.selling_partner_id}
        for settlement_type in SETTLEMENT_REPORT_PREFIX:
            if settlement_type in query["types"]:
                await anyio.to_thread.run_sync(ensure_settlements, state, caller, now, settlement_type)
        since, until = datetime.fromisoformat(query["since"]), datetime.fromisoformat(query["until"])
        now_mono = state.monotonic()
        with state.lock:
            matches = [
                r
                for r in state.reports.values()
                if r.selling_partner_id == caller.selling_partner_id
                and r.report_type in query["types"]
                and since <= r.created <= until
                and (not query["statuses"] or r.status_at(now_mono) in query["statuses"])
                and (not query["mids"] or set(query["mids"]) & set(r.marketplace_ids))
            ]
        matches.sort(key=lambda r: (r.created, r.report_id), reverse=True)
        offset, size = int(query["offset"]), int(query["pageSize"])
        page = matches[offset : offset + size]
        out: dict[str, Any] = {"reports": [report_json(r, now_mono) for r in page]}
        if offset + size < len(matches):
            out["nextToken"] = encode_token(state, {**query, "offset": offset + size})
        return sp_json(out)

    async def get_report(request: Request, caller: Caller) -> Response:
        rec = own(caller, request.path_params["reportId"])
        if rec is None:
            return not_found(
                "Report not found.",
                f"No report with id {request.path_params['reportId']} for this selling partner.",
            )
        return sp_json(report_json(rec, state.monotonic()))

    async def cancel_report(request: Request, caller: Caller) -> Response:
        rec = own(caller, request.path_params["reportId"])
        if rec is None:
            return not_found(
                "Report not found.",
                f"No report with id {request.path_params['reportId']} for this selling partner.",
            )
        with state.lock:
            status = rec.status_at(state.monotonic())
            if status != "IN_QUEUE":
                return bad_request(
                    f"The report cannot be cancelled because its processingStatus is {status}.",
                    "Only reports that are IN_QUEUE can be cancelled.",
                )
            rec.status, rec.finalized = "CANCELLED", True
            rec.processing_end = state.now().replace(microsecond=0)
        return Response(status_code=200, media_type="application/json")

    async def get_report_document(request: Request, caller: Caller) -> Response:
        doc_id = request.path_params["reportDocumentId"]
        doc: DocumentRecord | None = state.documents.get(doc_id)
        if doc is None or doc.selling_partner_id != caller.selling_partner_id:
            return not_found(
                "Report document not found.", f"No report document {doc_id} for this selling partner."
            )
        flag = request.query_params.get("enableContentEncodingUrlHeader", "false").lower() == "true"
        url = documents.presign(state, state.public_url, doc_id, flag)
        return sp_json({"reportDocumentId": doc_id, "url": url, "compressionAlgorithm": "GZIP"})

    return [
        sp_route(state, "POST", f"{BASE}/reports", "createReport", create_report),
        sp_route(state, "GET", f"{BASE}/reports", "getReports", get_reports),
        sp_route(state, "GET", f"{BASE}/reports/{{reportId}}", "getReport", get_report),
        sp_route(state, "DELETE", f"{BASE}/reports/{{reportId}}", "cancelReport", cancel_report),
        sp_route(
            state, "GET", f"{BASE}/documents/{{reportDocumentId}}", "getReportDocument", get_report_document
        ),
        *documents.routes(state),
    ]
