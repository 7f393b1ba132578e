"""Fleet scale on AWS, against AWS's documented limits (moto enforces none of them): 500 accounts x 5
marketplaces x 10 report types planned by the real Plan step, fanned out by the generated definition.

Checked: every state payload (input/output) under 256 KB, every Lambda response under 6 MB, and the
worst-case history of the parent and of every child execution under 25,000 events (the event model of
:mod:`splake.runners.aws.history`, itself checked against a hand count in tests/unit/test_aws_fanout.py).
The payload of every state a unit passes through is built from the real handlers' shapes for the
real planned units; error causes take the longest message a handler can raise.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.aws.clients import AwsEndpoint
from splake.config import parse_config
from splake.reports.ledger import new_entry
from splake.reports.planner import WorkUnit
from splake.reports.types import REPORT_TYPES
from splake.runners.aws import history
from splake.runners.aws.errors import as_step_error
from splake.runners.aws.handlers import step_plan, step_summarize, unit_state
from splake.runners.aws.runtime import Runtime
from splake.runners.aws.statemachine import (
    MAX_UNIT_RESULT_BYTES,
    SYNC_STEPS,
    Timing,
    sync_definition,
)
from splake.runners.local import LocalContext

PAYLOAD_LIMIT = 256 * 1024  # Step Functions: a state's input or output, and a task result
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # synchronous invocation response
ACCOUNTS, MARKETPLACES = 500, ("DE", "FR", "IT", "ES", "UK")
# The fleet's report types: the ten core types this scale was sized with (orders, listings, FBA
# inventory, returns, settlements, Sales & Traffic, vendor sales/inventory), fixed here so that the
# growing report catalog does not silently multiply the default run's plan.
FLEET_REPORT_TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_AFN_INVENTORY_DATA",
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_SALES_AND_TRAFFIC_REPORT",
    "GET_VENDOR_SALES_REPORT",
    "GET_VENDOR_INVENTORY_REPORT",
)


def size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":")).encode())


def fleet_settings(lake: Path, backfill_days: int) -> Any:
    accounts = [
        {
            "id": f"acct-{i:03d}",
            "type": "vendor" if i % 10 == 0 else "seller",
            "region": "EU",
            "selling_partner_id": f"A{i:012d}",
            "marketplaces": list(MARKETPLACES),
        }
        for i in range(ACCOUNTS)
    ]
    assert set(FLEET_REPORT_TYPES) <= set(REPORT_TYPES)
    return parse_config(
        {
            "lake": {"path": str(lake)},
            "lwa": {"client_id": "amzn1.application-oa2-client.x"},
            "notifications": {"enabled": True},
            "sync": {
                "report_types": sorted(FLEET_REPORT_TYPES),
                **(
                    {"start_date": (date.today() - timedelta(days=backfill_days)).isoformat()}
                    if backfill_days
                    else {}
                ),
            },
            "accounts": accounts,
        }
    )


@pytest.mark.parametrize(
    "backfill_days",
    [0, pytest.param(45, marks=pytest.mark.slow, id="first-backfill-45-days")],
    ids=lambda d: "lookback" if d == 0 else str(d),
)
def test_fleet_of_500_accounts_stays_under_aws_limits(tmp_path: Path, backfill_days: int) -> None:
    """Default run: the scheduled run (lookback windows, ~25k units). Slow: a first 45-day backfill
    (~125k units, 38 MB of plan)."""
    settings = fleet_settings(tmp_path / "lake", backfill_days)
    runtime = Runtime(table="state", bucket="lake", endpoint=AwsEndpoint(region="eu-west-1"))
    t = Timing()
    definition = sync_definition({s: f"arn:fn:{s}" for s in SYNC_STEPS}, t, results_bucket="lake")
    fan = definition["States"]["FanOut"]
    batcher = fan["ItemBatcher"]
    unit_states = fan["ItemProcessor"]["States"]["Units"]["ItemProcessor"]["States"]

    async def plan() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ctx = LocalContext.open(settings, secrets=LocalSecretStore(tmp_path / "secrets"))
        try:
            started = time.monotonic()
            out = await step_plan(ctx, {"input": {}, "execution_id": None}, runtime)
            print(f"plan: {out['units']} units in {time.monotonic() - started:.1f}s")
            units = json.loads(ctx.objects.get_bytes(out["plan"]["key"]))
            return out, units
        finally:
            await ctx.aclose()

    plan_out, units = asyncio.run(plan())
    # what Plan adds on AWS, where the settings come from the published S3 object (this test plans from a
    # local config): the pinned version, with the longest bucket name S3 allows (63)
    assert "settings" not in plan_out["options"]
    version = "f" * 64
    pin = {"version": version, "bucket": "b" * 63, "key": f"config/settings/{version}.json"}
    plan_out["options"]["settings"] = pin
    # The old inline Map carried ~280 B per unit: this fleet's plan is megabytes; Plan returns a pointer.
    plan_bytes = size(units)
    print(f"plan file: {plan_bytes / 1e6:.1f} MB; Plan response {size(plan_out)} B")
    assert len(units) == plan_out["units"] >= ACCOUNTS * len(MARKETPLACES) * 5
    assert plan_bytes > 20 * PAYLOAD_LIMIT  # what the old inline Map carried in one payload
    assert size(plan_out) < 4096  # the parent's payload does not grow with the fleet
    parent_input = {**plan_out, "results": {"MapRunArn": "arn:" + "x" * 200, "ResultWriterDetails": {}}}
    assert size(parent_input) < PAYLOAD_LIMIT

    # The units in flight at the start (max_concurrency children x unit_concurrency units, in file order)
    # belong to that many different sellers and several report types: no seller's SP-API bucket is asked
    # for more than its burst while the others idle (the planner lists an account's units together)
    in_flight = units[: t.max_concurrency * t.unit_concurrency]
    assert len({u["account_id"] for u in in_flight}) == len(in_flight)
    assert len({u["report_type"] for u in in_flight}) >= 5
    # round-robin: no seller's n+1-th unit starts before every seller's n-th (or last) one
    seen: dict[str, int] = {}
    rounds = []
    for u in units:
        seen[u["account_id"]] = seen.get(u["account_id"], 0) + 1
        rounds.append(seen[u["account_id"]])
    drop = next((i for i in range(1, len(rounds)) if rounds[i] < rounds[i - 1]), None)
    assert drop is None, (drop, rounds[drop - 3 : drop + 3] if drop else None, units[drop - 1 : drop + 1])
    assert len(seen) == len({u["account_id"] for u in units})

    # ItemBatcher: at most MaxItemsPerBatch units and MaxInputBytesPerBatch bytes per child
    batches: list[list[dict[str, Any]]] = [[]]
    for u in units:
        cur = batches[-1]
        if len(cur) == batcher["MaxItemsPerBatch"] or size([*cur, u]) > batcher["MaxInputBytesPerBatch"]:
            batches.append([])
        batches[-1].append(u)
    child_inputs = [{"Items": b, "BatchInput": {"options": plan_out["options"]}} for b in batches]
    biggest_input = max(size(c) for c in child_inputs)
    print(
        f"{len(batches)} child executions of <= {batcher['MaxItemsPerBatch']} units,",
        f"input <= {biggest_input} B",
    )
    assert biggest_input < PAYLOAD_LIMIT

    # Every state a unit passes through: the biggest payload for each planned unit
    now = datetime.now(UTC)
    long_error = {"Error": "splake.Fatal", "Cause": str(as_step_error(RuntimeError("y" * 100_000)))}
    worst_state = worst_record = 0
    for u in units:
        unit = WorkUnit.from_dict(u)
        item = {"unit": u, "options": plan_out["options"]}
        entry = new_entry(unit)
        state = unit_state(
            entry, now, settings, runtime, action="requested", extra={"options": item["options"]}
        )
        state.update(report_id="1" * 20, status="IN_PROGRESS", run_polls=t.max_polls, rows=10**9)
        state["notification_error"] = {"Error": "States.Timeout", "Cause": ""}
        state["error"] = long_error  # a Catch's ResultPath on top of everything else
        await_payload = {"task_token": "t" * 2048, "unit": state}  # SendTaskSuccess: taskToken <= 2048
        worst_state = max(worst_state, size(item), size(state), size(await_payload))
        records = [
            {"outcome": "done", "status": "INGESTED", "rows": 10**9, "fatal_new": True, "unit": u},
            {"outcome": "deferred", "status": "IN_PROGRESS", "unit": u},
            {"outcome": "failed", "unit": item, "error": long_error},
        ]
        worst_record = max(worst_record, *(size(r) for r in records))
    print(f"largest unit state payload {worst_state} B, largest unit result {worst_record} B")
    assert worst_state < PAYLOAD_LIMIT
    assert worst_record <= MAX_UNIT_RESULT_BYTES
    # a child's output: its units' records (the inline Map's result)
    assert max(len(b) for b in batches) * worst_record < PAYLOAD_LIMIT

    # Summarize's response when every unit failed: bounded (counts + the first 20 failures)
    failed = [{"outcome": "failed", "unit": u, "error": long_error} for u in units]
    summary = step_summarize({"results": failed, "planned": len(units)}, runtime)
    assert summary["failed"] == len(units)
    print(f"Summarize response {size(summary)} B")
    assert size(summary) < PAYLOAD_LIMIT < LAMBDA_RESPONSE_LIMIT

    # History: the parent is fleet-independent; each child's worst case fits
    per_unit = history.unit_worst_events(unit_states, "Request", max_visits={"Check": t.max_polls})
    child = history.child_worst_events(per_unit, max(len(b) for b in batches))
    parent = history.parent_worst_events(definition["States"], "Plan")
    print(f"history: parent <= {parent} events, child <= {child} events ({per_unit} per unit)")
    assert parent < history.HISTORY_LIMIT and child <= history.HISTORY_LIMIT
