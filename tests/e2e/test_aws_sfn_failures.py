"""Failure paths of the sync state machine on moto: transient SP-API errors surface as splake.Retryable /
splake.Throttled and are absorbed by the state machine's Retry; a FATAL report fails its unit (not the
others) and the execution fails at the end with the unit listed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from splake.sandbox.ratelimit import header_rate
from splake.spapi.usage_plans import operations
from tests.integration.items_helpers import sandbox_settings
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto, own_lake, run_execution
from tests.support.sandbox_fixtures import FAST

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"


def _settings(sb: Any, tmp_path: Path, max_retries: int) -> Any:
    return sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na",),
        lake=own_lake(tmp_path / "lake"),
        spapi={"endpoint_override": sb.url, "max_retries": max_retries},
        sync={
            "report_types": [LISTINGS, ORDERS],
            "lookback_days": 1,
            "poll_initial_seconds": 1,
            "poll_max_seconds": 1,
        },
    )


def sandbox_plan(op: str) -> tuple[float, int]:
    """The usage plan the time-scaled sandbox announces in its rate headers. Without it, a spurious 429 on
    an operation's very first call (no header learnt yet) makes the shared limiter wait out Amazon's real
    rate (~63 s for createReport)."""
    spec = operations().get(op)
    return header_rate(op, 1.0, FAST["time_scale"]), spec.burst if spec else 1


def test_transient_errors_are_retried_by_the_state_machine(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    # ~1 in 5 SP-API calls fails (5xx or 429) and the client does not retry: the handlers raise the
    # stable names and Step Functions' Retry does the retrying
    sb = sandbox_factory(error_rate=0.1, spurious_429_rate=0.1)
    lambda_handlers.rate_plan = sandbox_plan
    _, arn, _ = deploy_on_moto(moto_server, _settings(sb, tmp_path, max_retries=0), sb)
    desc = run_execution(moto_server, arn, timeout=120)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), lambda_handlers.errors[:3])
    kinds = Counter(kind for _, kind in lambda_handlers.invocations)
    assert kinds["splake.Retryable"] + kinds["splake.Throttled"] > 0, kinds
    assert set(kinds) <= {"ok", "splake.Retryable", "splake.Throttled"}, kinds
    out = json.loads(desc["output"])
    assert out["failed"] == 0 and out["rows"] > 0


def test_fatal_report_fails_its_unit_and_the_execution(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    sb = sandbox_factory(fatal_report_types=(LISTINGS,))
    _, arn, _ = deploy_on_moto(moto_server, _settings(sb, tmp_path, max_retries=3), sb)
    sfn = moto_server.client("stepfunctions")
    desc = run_execution(moto_server, arn, timeout=120)
    assert desc["status"] == "FAILED"
    assert desc.get("error") == "splake.UnitsFailed"
    history = sfn.get_execution_history(executionArn=desc["executionArn"], maxResults=1000)["events"]
    summary = next(
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in history
        if e["type"] == "TaskSucceeded" and '"by_status"' in e["taskSucceededEventDetails"]["output"]
    )
    assert summary["failed"] == len(sb.world.account("seller-na").marketplace_ids)  # one listings unit each
    assert {f["unit"]["report_type"] for f in summary["failures"]} == {LISTINGS}
    assert summary["by_status"].get("INGESTED", 0) >= 1  # the orders units still landed


def test_a_failing_items_refresh_fails_the_items_execution(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    """The items machine used to end in Summarize and never fail, so its alarm never fired: a refresh
    that cannot run (the seller revoked the app: LWA answers invalid_grant) fails the execution."""
    from datetime import UTC, datetime

    from splake.items.registry import Registry, TrackedItem
    from splake.runners.aws.statemachine import ITEMS_STEPS, Timing, items_definition
    from splake.sandbox.catalog import products_for
    from tests.support.aws_fixtures import create_function, for_moto, unique

    sb = sandbox_factory(revoked_accounts=("seller-na",))
    settings = sandbox_settings(sb, tmp_path / "lake", ("seller-na",), lake=own_lake(tmp_path / "lake"))
    runtime, _, _ = deploy_on_moto(moto_server, settings, sb)
    products = products_for(sb.world.seed, sb.world.account("seller-na"), sb.world.scale)[:2]
    us = sb.world.account("seller-na").marketplace_ids[0]
    Registry(runtime.state()).add(
        [TrackedItem("seller-na", us, "sku", p.sku, None, ("user",)) for p in products], datetime.now(UTC)
    )
    suffix = unique("fn")
    functions = {
        step: create_function(
            moto_server, f"splake-{step}-{suffix}", f"splake.runners.aws.handlers.{step}", runtime.env()
        )
        for step in ITEMS_STEPS
    }
    definition = items_definition(functions, Timing(retry_interval_seconds=1), results_bucket=runtime.bucket)
    sm = moto_server.client("stepfunctions").create_state_machine(
        name=unique("splake-items"),
        definition=json.dumps(for_moto(definition)),
        roleArn="arn:aws:iam::123456789012:role/splake-sfn",
    )
    desc = run_execution(moto_server, sm["stateMachineArn"], timeout=90)
    assert desc["status"] == "FAILED" and desc.get("error") == "splake.UnitsFailed", desc.get("error")
    history = moto_server.client("stepfunctions").get_execution_history(
        executionArn=desc["executionArn"], maxResults=1000
    )["events"]
    summary = next(
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in history
        if e["type"] == "TaskSucceeded" and '"by_status"' in e["taskSucceededEventDetails"]["output"]
    )
    assert summary["failed"] == summary["units"] == 1
    assert summary["failures"][0]["error"] == "splake.Fatal", (
        summary["failures"],
        lambda_handlers.errors[:2],
    )
    assert any(
        kind == "splake.Fatal" for name, kind in lambda_handlers.invocations if "items_refresh" in name
    )
