"""Sandbox Reports API 2021-06-30 routes: createReport, getReports, getReport, cancelReport,
getReportDocument (+ the document download routes). Creation is in ``reports_create``, processing in
``reports_lifecycle``, ``getReports`` paging in ``reports_paging``, settlements in ``reports_settlements``
and schedules in ``apis/report_schedules``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox import documents
from splake.sandbox.reports_create import create_record, validate_create
from splake.sandbox.reports_paging import decode_token, encode_token, parse_get_reports
from splake.sandbox.reports_settlements import SETTLEMENT_REPORT_PREFIX, ensure_settlements
from splake.sandbox.reports_state import DocumentRecord, ReportRecord, report_json
from splake.sandbox.responses import bad_request, not_found, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState

BASE = "/reports/2021-06-30"


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
