"""Sandbox ``getReports`` query: parameter validation and the signed nextToken that carries the query."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request

from splake.sandbox.reports_state import parse_time
from splake.sandbox.state import SandboxState

STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
RETENTION = timedelta(days=90)


def _list_param(request: Request, name: str) -> list[str] | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


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
