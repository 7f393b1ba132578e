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

The steps live in :mod:`splake.reports.requesting` (plan, request, discover),
:mod:`splake.reports.completion` (check, complete), :mod:`splake.reports.ingest` (ingest) and
:mod:`splake.reports.landing` (one document: decode, parse, stage; land);
this module is the one place runners import them from.
"""

from __future__ import annotations

from splake.reports.completion import check, complete, explain_failure
from splake.reports.ingest import (
    LAND_PARALLELISM,
    IngestResult,
    ingest,
    record_ingest_failure,
    supported,
)
from splake.reports.landing import land_document
from splake.reports.requesting import (
    RequestOutcome,
    discover,
    list_reports,
    plan,
    request,
    unfinished_entries,
)

__all__ = [
    "LAND_PARALLELISM",
    "IngestResult",
    "RequestOutcome",
    "check",
    "complete",
    "discover",
    "explain_failure",
    "ingest",
    "land_document",
    "list_reports",
    "plan",
    "record_ingest_failure",
    "request",
    "supported",
    "unfinished_entries",
]
