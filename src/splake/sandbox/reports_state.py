"""Records the Reports API keeps (reports and documents) and the pure lifecycle decisions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from splake.sandbox.report_request import ReportRequest

Status = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED"]


@dataclass
class ReportRecord:
    report_id: str
    selling_partner_id: str
    account_id: str
    report_type: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime
    data_end: datetime
    options: dict[str, str]
    created: datetime
    created_mono: float
    queue_seconds: float  # real seconds spent IN_QUEUE
    work_seconds: float  # real seconds spent IN_PROGRESS
    forced: Status | None = None  # fault injection / validation outcome decided at creation
    forced_details: str | None = None  # error document text for a forced FATAL
    status: Status = "IN_QUEUE"
    finalized: bool = False
    processing_start: datetime | None = None
    processing_end: datetime | None = None
    document_id: str | None = None
    rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def status_at(self, now_mono: float) -> Status:
        """Pure: what getReport shows at ``now_mono`` (final status only once finalized by the ticker)."""
        if self.finalized:
            return self.status
        return "IN_QUEUE" if now_mono - self.created_mono < self.queue_seconds else "IN_PROGRESS"

    def due(self, now_mono: float) -> bool:
        return not self.finalized and now_mono - self.created_mono >= self.queue_seconds + self.work_seconds


@dataclass
class DocumentRecord:
    document_id: str
    selling_partner_id: str
    report_id: str
    report_type: str
    content_type: str
    path: Path | None = None  # gzip file; None until rendered (settlements render on first use)
    request: ReportRequest | None = None  # for lazy rendering
    size: int = 0


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(value: str) -> datetime:
    """ISO 8601 date-time (``Z`` or offset; naive = UTC) or a date."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def document_id_for(seed: int, report_id: str, region: str) -> str:
    h = hashlib.sha256(f"{seed}|doc|{report_id}".encode()).hexdigest()
    uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return f"amzn1.spdoc.1.4.{region.lower()}.{uid}.T{h[32:46].upper()}.{int(h[46:56], 16) % 10**4}"


def report_json(rec: ReportRecord, now_mono: float) -> dict[str, Any]:
    status = rec.status_at(now_mono)
    out: dict[str, Any] = {
        "reportType": rec.report_type,
        "processingEndTime": iso_z(rec.processing_end) if rec.processing_end and rec.finalized else None,
        "processingStatus": status,
        "marketplaceIds": list(rec.marketplace_ids),
        "reportDocumentId": rec.document_id if rec.finalized else None,
        "reportId": rec.report_id,
        "dataEndTime": iso_z(rec.data_end),
        "createdTime": iso_z(rec.created),
        "processingStartTime": iso_z(rec.created + timedelta(seconds=rec.queue_seconds))
        if status != "IN_QUEUE" and not (status == "CANCELLED" and rec.processing_start is None)
        else None,
        "dataStartTime": iso_z(rec.data_start),
        "reportScheduleId": rec.extra.get("reportScheduleId"),
    }
    return {k: v for k, v in out.items() if v is not None}
