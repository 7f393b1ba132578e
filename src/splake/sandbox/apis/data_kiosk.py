"""Sandbox Data Kiosk API 2023-11-15: createQuery, getQueries, getQuery, cancelQuery, getDocument, and the
ticker that finishes queries and publishes DATA_KIOSK_QUERY_PROCESSING_FINISHED.

A query is read with :mod:`splake.sandbox.graphql_lite` at createQuery (400 for a query that is not
GraphQL or longer than 8,000 characters without whitespace). Processing takes ``processing_seconds`` like
a report; the result is one JSON object per line (JSONL, gzip with ``Content-Encoding: gzip`` at the
pre-signed ``documentUrl``), each record projected to the fields the query selected. No data → DONE
without ``dataDocumentId``; invalid arguments → FATAL with an error document ``{"errorMessage": ...}``.
More than ``extra["data_kiosk_page_records"]`` (default 5,000) records paginate: the query carries
``pagination.nextToken`` and the next page is a createQuery with the same query and that token.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox import documents
from splake.sandbox.apis.common import b64, csv_param, parse_dt, unb64
from splake.sandbox.datakiosk_data import DatasetError, records
from splake.sandbox.graphql_lite import GraphQLSyntaxError, parse, project
from splake.sandbox.notify import iso_now
from splake.sandbox.reports_state import DocumentRecord, iso_z
from splake.sandbox.responses import bad_request, not_found, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState

BASE = "/dataKiosk/2023-11-15"
MAX_QUERY_CHARS = 8000
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")


@dataclass
class DkQuery:
    query_id: str
    selling_partner_id: str
    account_id: str
    account_type: str
    marketplace_ids: tuple[str, ...]
    query: str
    offset: int
    created: datetime
    created_mono: float
    due_mono: float
    status: str = "IN_QUEUE"
    finalized: bool = False
    processing_end: datetime | None = None
    data_document_id: str | None = None
    error_document_id: str | None = None
    next_token: str | None = None

    def status_at(self, now_mono: float, queue_seconds: float) -> str:
        if self.finalized:
            return self.status
        return "IN_QUEUE" if now_mono - self.created_mono < queue_seconds else "IN_PROGRESS"

    def json(self, now_mono: float, queue_seconds: float) -> dict[str, Any]:
        status = self.status_at(now_mono, queue_seconds)
        out: dict[str, Any] = {
            "queryId": self.query_id,
            "query": self.query,
            "createdTime": iso_z(self.created),
            "processingStatus": status,
        }
        if status != "IN_QUEUE":
            out["processingStartTime"] = iso_z(self.created + timedelta(seconds=1))
        if self.finalized and self.processing_end is not None:
            out["processingEndTime"] = iso_z(self.processing_end)
        if self.data_document_id:
            out["dataDocumentId"] = self.data_document_id
        if self.error_document_id:
            out["errorDocumentId"] = self.error_document_id
        if self.next_token:
            out["pagination"] = {"nextToken": self.next_token}
        return out


def _queries(state: SandboxState) -> dict[str, DkQuery]:
    out: dict[str, DkQuery] = state.data_kiosk_queries
    return out


def _write_doc(state: SandboxState, q: DkQuery, kind: str, lines: list[str]) -> str:
    h = hashlib.sha256(f"{state.config.seed}|dk|{q.query_id}|{kind}".encode()).hexdigest()
    doc_id = f"amzn1.tortuga.4.{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}.T{h[32:44].upper()}"
    path = state.doc_dir / f"{doc_id}.gz"
    path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode(), mtime=0))
    state.documents[doc_id] = DocumentRecord(
        doc_id,
        q.selling_partner_id,
        q.query_id,
        "DATA_KIOSK",
        "application/x-ndjson",
        path,
        None,
        path.stat().st_size,
    )
    return doc_id


def finalize(state: SandboxState, q: DkQuery) -> None:
    """Run the query against the world and settle its status (ticker thread)."""
    page = int(state.config.extra.get("data_kiosk_page_records") or 5000)
    try:
        root = parse(q.query)[0]
        rows = records(state.world, q.selling_partner_id, q.marketplace_ids, root, q.created)
        table = root.selections[0]
        lines = [json.dumps(project(r, table.selections), separators=(",", ":")) for r in rows]
    except (DatasetError, GraphQLSyntaxError) as exc:
        q.error_document_id = _write_doc(state, q, "error", [json.dumps({"errorMessage": str(exc)})])
        q.status = "FATAL"
    else:
        chunk = lines[q.offset : q.offset + page]
        if chunk:
            q.data_document_id = _write_doc(state, q, "data", chunk)
        if q.offset + page < len(lines):
            q.next_token = b64(
                {"q": hashlib.sha256(q.query.encode()).hexdigest()[:16], "off": q.offset + page}
            )
        q.status = "DONE"
    q.finalized = True
    q.processing_end = state.now().replace(microsecond=0)
    notify(state, q)


def notify(state: SandboxState, q: DkQuery) -> int:
    if q.account_type != "seller":
        return 0

    def build(meta: dict[str, str]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "accountId": q.selling_partner_id,
            "queryId": q.query_id,
            "query": q.query,
            "processingStatus": q.status,
        }
        if q.data_document_id:
            payload["dataDocumentId"] = q.data_document_id
        if q.error_document_id:
            payload["errorDocumentId"] = q.error_document_id
        if q.next_token:
            payload["pagination"] = {"nextToken": q.next_token}
        return {
            "notificationVersion": "2023-11-15",
            "notificationType": "DATA_KIOSK_QUERY_PROCESSING_FINISHED",
            "payloadVersion": "2023-11-15",
            "eventTime": iso_now(state.now()),
            "payload": payload,
            "notificationMetadata": meta,
        }

    return state.publish_notification("DATA_KIOSK_QUERY_PROCESSING_FINISHED", q.selling_partner_id, build)


def tick(state: SandboxState) -> None:
    now_mono = state.monotonic()
    with state.lock:
        due = [q for q in _queries(state).values() if not q.finalized and q.due_mono <= now_mono]
    for q in sorted(due, key=lambda q: q.created_mono):
        try:
            finalize(state, q)
        except Exception:  # never leave a query stuck because of a sandbox bug
            q.status, q.finalized = "FATAL", True
            q.processing_end = state.now().replace(microsecond=0)


def routes(state: SandboxState) -> list[Route]:
    def queue_seconds() -> float:
        return state.scaled(state.config.processing_seconds * 0.25)

    def own(caller: Caller, query_id: str) -> DkQuery | None:
        q = _queries(state).get(query_id)
        return q if q is not None and q.selling_partner_id == caller.selling_partner_id else None

    async def create_query(request: Request, caller: Caller) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return bad_request("Request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            return bad_request("'query' is required.")
        text: str = body["query"]
        if len(re.sub(r"\s+", " ", text).strip()) > MAX_QUERY_CHARS:
            return bad_request(f"The query exceeds {MAX_QUERY_CHARS} characters.")
        try:
            fields = parse(text)
        except GraphQLSyntaxError as exc:
            return bad_request(f"Invalid GraphQL query: {exc}.")
        if len(fields) != 1:
            return bad_request("A query selects exactly one dataset.")
        offset = 0
        if body.get("paginationToken"):
            tok = unb64(str(body["paginationToken"]))
            if tok is None or tok.get("q") != hashlib.sha256(text.encode()).hexdigest()[:16]:
                return bad_request("Invalid paginationToken for this query.")
            offset = int(tok["off"])
        acct = caller.account
        assert acct is not None
        now = state.now().replace(microsecond=0)
        mono = state.monotonic()
        qid = str(60_000_000_000 + state.next_id() * 13 + state.config.seed % 13)
        q = DkQuery(
            qid,
            acct.selling_partner_id,
            acct.account_id,
            acct.type,
            acct.marketplace_ids,
            text,
            offset,
            now,
            mono,
            mono + state.scaled(state.config.processing_seconds),
        )
        with state.lock:
            _queries(state)[qid] = q
        return sp_json({"queryId": qid}, status=202)

    async def get_query(request: Request, caller: Caller) -> Response:
        q = own(caller, request.path_params["queryId"])
        if q is None:
            return not_found("Query not found.")
        return sp_json(q.json(state.monotonic(), queue_seconds()))

    async def get_queries(request: Request, caller: Caller) -> Response:
        qp = request.query_params
        token = qp.get("paginationToken")
        spec = unb64(token) if token else None
        if token and (spec is None or spec.get("op") != "queries"):
            return bad_request("Invalid paginationToken.")
        if spec is None:
            statuses = csv_param(request, "processingStatuses")
            if set(statuses) - set(STATUSES):
                return bad_request("Invalid processingStatuses.")
            try:
                size = int(qp.get("pageSize", "10"))
            except ValueError:
                return bad_request("Invalid pageSize.")
            if not 1 <= size <= 100:
                return bad_request("pageSize must be between 1 and 100.")
            now = state.now()
            since = parse_dt(qp.get("createdSince")) or now - timedelta(days=90)
            until = parse_dt(qp.get("createdUntil")) or now
            spec = {
                "op": "queries",
                "st": statuses,
                "size": size,
                "since": iso_z(since),
                "until": iso_z(until),
                "off": 0,
            }
        since_dt, until_dt = parse_dt(spec["since"]), parse_dt(spec["until"])
        assert since_dt is not None and until_dt is not None
        now_mono, qs = state.monotonic(), queue_seconds()
        with state.lock:
            found = [
                q
                for q in _queries(state).values()
                if q.selling_partner_id == caller.selling_partner_id
                and since_dt <= q.created <= until_dt
                and (not spec["st"] or q.status_at(now_mono, qs) in spec["st"])
            ]
        found.sort(key=lambda q: (q.created, q.query_id), reverse=True)
        off, size = int(spec["off"]), int(spec["size"])
        out: dict[str, Any] = {"queries": [q.json(now_mono, qs) for q in found[off : off + size]]}
        if off + size < len(found):
            out["pagination"] = {"nextToken": b64({**spec, "off": off + size})}
        return sp_json(out)

    async def cancel_query(request: Request, caller: Caller) -> Response:
        with state.lock:
            q = own(caller, request.path_params["queryId"])
            if q is None:
                return not_found("Query not found.")
            if q.finalized and q.status != "CANCELLED":
                return bad_request(f"The query cannot be cancelled: its processingStatus is {q.status}.")
            q.status, q.finalized = "CANCELLED", True
            q.processing_end = state.now().replace(microsecond=0)
        return Response(status_code=204)

    async def get_document(request: Request, caller: Caller) -> Response:
        doc_id = request.path_params["documentId"]
        doc = state.documents.get(doc_id)
        if (
            doc is None
            or doc.selling_partner_id != caller.selling_partner_id
            or doc.report_type != "DATA_KIOSK"
        ):
            return not_found("Document not found.")
        # Data Kiosk documents are compressed: the download answers with Content-Encoding: gzip.
        url = documents.presign(state, state.public_url, doc_id, True)
        return sp_json({"documentId": doc_id, "documentUrl": url})

    return [
        sp_route(state, "POST", f"{BASE}/queries", "createQuery", create_query),
        sp_route(state, "GET", f"{BASE}/queries", "getQueries", get_queries),
        sp_route(state, "GET", f"{BASE}/queries/{{queryId}}", "getQuery", get_query),
        sp_route(state, "DELETE", f"{BASE}/queries/{{queryId}}", "cancelQuery", cancel_query),
        sp_route(state, "GET", f"{BASE}/documents/{{documentId}}", "getDocument", get_document),
    ]
