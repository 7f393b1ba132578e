"""Vendor polling is a bounded loop: a unit still waiting for Amazon after ``max_polls`` checks in one
execution is *deferred* (its report stays in flight in the ledger, the execution's history stays bounded),
and the next execution resumes that report -- no second createReport -- and lands it. On moto, through the
generated sync definition and the real handlers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from splake.reports import ledger
from splake.runners.aws.statemachine import Timing
from tests.integration.items_helpers import sandbox_settings
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto, own_lake, run_execution

VENDOR_TYPE = "GET_VENDOR_SALES_REPORT"


def test_a_unit_deferred_after_max_polls_is_resumed_by_the_next_run(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    sb = sandbox_factory(processing_seconds=8000)  # x time_scale 0.001: each report takes ~8 s
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("vendor-na",),
        lake=own_lake(tmp_path / "lake"),
        sync={
            "report_types": [VENDOR_TYPE],
            "lookback_days": 5,  # vendor data lags 72 h: a shorter lookback plans no window
            "poll_initial_seconds": 1,
            "poll_max_seconds": 1,
        },
    )
    timing = Timing(max_polls=1, retry_interval_seconds=1, throttle_interval_seconds=1)
    runtime, arn, _ = deploy_on_moto(moto_server, settings, sb, timing=timing)
    vendor = sb.world.account("vendor-na").selling_partner_id
    # Parameter Store calls of the functions (the container's client, shared by the dispatched handlers)
    parameter_reads: list[str] = []

    def count(**kw: Any) -> None:
        parameter_reads.append(kw["event_name"])

    ssm = runtime.client("ssm")
    ssm.meta.events.register("before-call.ssm.GetParameter", count)

    first = run_execution(moto_server, arn, timeout=60)
    assert first["status"] == "SUCCEEDED", (first.get("error"), lambda_handlers.errors[:3])
    out = json.loads(first["output"])
    assert out["failed"] == 0 and out["rows"] == 0
    assert out["by_status"] == {"DEFERRED": out["units"]} and out["units"] >= 1
    in_flight = {e.key: e.report_id for e in ledger.entries(runtime.state())}
    assert in_flight and all(in_flight.values())
    assert all(e.status in ("IN_QUEUE", "IN_PROGRESS") for e in ledger.entries(runtime.state()))
    requested = sb.stats.requests_for("createReport", vendor)
    assert requested == len(in_flight)
    checks = sb.stats.requests_for("getReport", vendor)
    assert checks == len(in_flight)  # max_polls = 1: one check per unit, then deferred

    time.sleep(9)  # Amazon finishes the reports meanwhile
    second = run_execution(moto_server, arn, timeout=60)
    assert second["status"] == "SUCCEEDED", (second.get("error"), lambda_handlers.errors[:3])
    out = json.loads(second["output"])
    assert out["failed"] == 0 and out["rows"] > 0
    assert sb.stats.requests_for("createReport", vendor) == requested  # resumed, not requested again
    done = {e.key: e for e in ledger.entries(runtime.state())}
    assert {k: e.report_id for k, e in done.items() if k in in_flight} == in_flight
    assert all(done[k].status == "INGESTED" for k in in_flight)
    # only the two Plan invocations read the settings pointer; every unit step used the pinned version
    ssm.meta.events.unregister("before-call.ssm.GetParameter", count)
    steps = [n.split("-")[1] for n, kind in lambda_handlers.invocations if kind == "ok"]
    assert steps.count("plan") == 2 and len(steps) > 6
    assert len(parameter_reads) == 2, (len(parameter_reads), steps)
