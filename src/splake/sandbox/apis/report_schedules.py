"""Sandbox Reports API 2021-06-30 schedules: createReportSchedule, getReportSchedules, getReportSchedule,
cancelReportSchedule, and the ticker that creates each schedule's reports when they fall due.

A schedule with the same report type and marketplaces as an existing one replaces it (Amazon's rule).
Scheduled reports cover the period before their creation and are created through the same path as
``createReport`` (so faults, audience checks and notifications apply); their period is scaled by
``time_scale`` like every other sandbox duration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox import reports_create
from splake.sandbox.apis.common import csv_param
from splake.sandbox.reports_state import iso_z, parse_time
from splake.sandbox.responses import bad_request, not_found, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState

BASE = "/reports/2021-06-30/schedules"
PERIODS: dict[str, timedelta] = {
    "PT5M": timedelta(minutes=5),
    "PT15M": timedelta(minutes=15),
    "PT30M": timedelta(minutes=30),
    "PT1H": timedelta(hours=1),
    "PT2H": timedelta(hours=2),
    "PT4H": timedelta(hours=4),
    "PT8H": timedelta(hours=8),
    "PT12H": timedelta(hours=12),
    "P1D": timedelta(days=1),
    "P2D": timedelta(days=2),
    "P3D": timedelta(days=3),
    "PT84H": timedelta(hours=84),
    "P7D": timedelta(days=7),
    "P14D": timedelta(days=14),
    "P15D": timedelta(days=15),
    "P18D": timedelta(days=18),
    "P30D": timedelta(days=30),
    "P1M": timedelta(days=30),
}


@dataclass
class Schedule:
    schedule_id: str
    caller: Caller
    report_type: str
    marketplace_ids: tuple[str, ...]
    options: dict[str, str]
    period: str
    next_wall: datetime  # nextReportCreationTime as shown
    next_mono: float  # when the ticker creates the next report (scaled)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reportScheduleId": self.schedule_id,
            "reportType": self.report_type,
            "marketplaceIds": list(self.marketplace_ids),
            "period": self.period,
            "nextReportCreationTime": iso_z(self.next_wall),
        }
        if self.options:
            out["reportOptions"] = dict(self.options)
        return out


def validate_schedule(body: Any, marketplaces: tuple[str, ...], now: datetime) -> dict[str, Any] | str:
    """Pure validation of a CreateReportScheduleSpecification (the createReport rules plus the period)."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object (CreateReportScheduleSpecification)."
    period = body.get("period")
    if period not in PERIODS:
        return f"period must be one of {', '.join(PERIODS)}."
    base = {k: body[k] for k in ("reportType", "marketplaceIds", "reportOptions") if k in body}
    spec = reports_create.validate_create(base, marketplaces, now)
    if isinstance(spec, str):
        return spec
    first = now + PERIODS[period]
    if body.get("nextReportCreationTime"):
        try:
            first = parse_time(str(body["nextReportCreationTime"]))
        except ValueError:
            return "nextReportCreationTime must be an ISO 8601 date-time."
        if first < now:
            return "nextReportCreationTime cannot be in the past."
    return {**spec, "period": period, "first": first}


def _schedules(state: SandboxState) -> dict[str, Schedule]:
    out: dict[str, Schedule] = state.report_schedules
    return out


def tick(state: SandboxState) -> None:
    """Create the reports of schedules that fell due (runs in the sandbox's ticker thread)."""
    now_mono = state.monotonic()
    with state.lock:
        due = [s for s in _schedules(state).values() if s.next_mono <= now_mono]
    for s in due:
        now = state.now()
        period = PERIODS[s.period]
        spec = {
            "reportType": s.report_type,
            "marketplaceIds": s.marketplace_ids,
            "start": now - period,
            "end": now,
            "options": dict(s.options),
        }
        rec = reports_create.create_record(state, s.caller, spec)
        rec.extra["reportScheduleId"] = s.schedule_id
        with state.lock:
            s.next_wall = now + period
            s.next_mono = now_mono + state.scaled(period.total_seconds())


def routes(state: SandboxState) -> list[Route]:
    def own(caller: Caller, schedule_id: str) -> Schedule | None:
        s = _schedules(state).get(schedule_id)
        return s if s is not None and s.caller.selling_partner_id == caller.selling_partner_id else None

    async def create_schedule(request: Request, caller: Caller) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return bad_request("Request body is not valid JSON.")
        assert caller.account is not None
        now = state.now()
        spec = validate_schedule(body, caller.account.marketplace_ids, now)
        if isinstance(spec, str):
            return bad_request(spec)
        with state.lock:
            schedules = _schedules(state)
            for old in list(schedules.values()):
                if (
                    old.caller.selling_partner_id == caller.selling_partner_id
                    and old.report_type == spec["reportType"]
                    and old.marketplace_ids == spec["marketplaceIds"]
                ):
                    del schedules[old.schedule_id]  # Amazon replaces the schedule of the same kind
            sid = str(50_000_000_000 + state.next_id() * 11 + state.config.seed % 11)
            first: datetime = spec["first"]
            schedules[sid] = Schedule(
                sid,
                caller,
                spec["reportType"],
                spec["marketplaceIds"],
                spec["options"],
                spec["period"],
                first,
                state.monotonic() + state.scaled((first - now).total_seconds()),
            )
        return sp_json({"reportScheduleId": sid}, status=201)

    async def get_schedules(request: Request, caller: Caller) -> Response:
        types = csv_param(request, "reportTypes")
        if not types:
            return bad_request("reportTypes is required.")
        if len(types) > 10:
            return bad_request("reportTypes may contain at most 10 values.")
        with state.lock:
            found = [
                s.json()
                for s in _schedules(state).values()
                if s.caller.selling_partner_id == caller.selling_partner_id and s.report_type in types
            ]
        return sp_json({"reportSchedules": found})

    async def get_schedule(request: Request, caller: Caller) -> Response:
        s = own(caller, request.path_params["reportScheduleId"])
        if s is None:
            return not_found("Report schedule not found.")
        return sp_json(s.json())

    async def cancel_schedule(request: Request, caller: Caller) -> Response:
        with state.lock:
            s = own(caller, request.path_params["reportScheduleId"])
            if s is None:
                return not_found("Report schedule not found.")
            del _schedules(state)[s.schedule_id]
        return Response(status_code=200, media_type="application/json")

    return [
        sp_route(state, "POST", BASE, "createReportSchedule", create_schedule),
        sp_route(state, "GET", BASE, "getReportSchedules", get_schedules),
        sp_route(state, "GET", f"{BASE}/{{reportScheduleId}}", "getReportSchedule", get_schedule),
        sp_route(state, "DELETE", f"{BASE}/{{reportScheduleId}}", "cancelReportSchedule", cancel_schedule),
    ]
