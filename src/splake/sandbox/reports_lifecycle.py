"""Sandbox report processing lifecycle: the ticker moves reports IN_QUEUE → IN_PROGRESS → DONE / FATAL /
CANCELLED, renders their documents (or an error document) and sends REPORT_PROCESSING_FINISHED."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from splake.logs import get_logger, log_event
from splake.sandbox.notify import iso_now
from splake.sandbox.report_request import ReportFatal, ReportRequest
from splake.sandbox.report_types import REPORT_TYPES
from splake.sandbox.reports_render import render_gzip_to
from splake.sandbox.reports_state import DocumentRecord, ReportRecord, document_id_for
from splake.sandbox.state import SandboxState

log = get_logger(__name__)


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
            info = state.prerender.take(rec.report_id, req, path) or render_gzip_to(path, req, cache=True)
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
        document_id=rec.document_id,
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
