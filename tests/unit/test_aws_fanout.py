"""The Distributed Map fan-out (pure parts): the ASL shape, the history-event model that sizes the batches,
the running-execution guard and reading ResultWriter files back into unit records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from splake.runners.aws import fanout, history
from splake.runners.aws.errors import MAX_MESSAGE_CHARS, THROTTLED, as_step_error
from splake.runners.aws.statemachine import (
    ITEMS_STEPS,
    SYNC_STEPS,
    Timing,
    items_definition,
    retry_policy,
    sync_definition,
    sync_unit_states,
)

FNS = {s: f"fn-{s}" for s in (*SYNC_STEPS, *ITEMS_STEPS)}


def test_fan_out_reads_the_plan_from_s3_batches_and_writes_results() -> None:
    for d in (
        sync_definition(FNS, Timing(max_concurrency=7), results_bucket="lake"),
        items_definition(FNS, Timing(max_concurrency=7), results_bucket="lake"),
    ):
        m = d["States"]["FanOut"]
        assert m["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
        assert m["ItemReader"]["Parameters"] == {"Bucket.$": "$.plan.bucket", "Key.$": "$.plan.key"}
        assert m["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        assert m["MaxConcurrency"] == 7
        assert m["ItemBatcher"]["MaxItemsPerBatch"] >= 1
        assert m["ResultWriter"]["Parameters"]["Bucket"] == "lake"
        assert d["States"]["Summarize"]["Parameters"]["Payload"]["results.$"] == "$.results"
        # nothing fleet-sized in the parent's payload: Plan returns a pointer
        assert "ItemsPath" not in m
    items = items_definition(FNS, results_bucket="lake")
    assert items["States"]["AnyFailed"]["Choices"][0]["Next"] == "Failed"  # a failed refresh fails it


def _tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every Task state of a definition, Map bodies included."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, st in states.items():
        if st["Type"] == "Task":
            out.append((name, st))
        if st["Type"] == "Map":
            out.extend(_tasks(st["ItemProcessor"]["States"]))
    return out


def test_every_retry_is_jittered_and_capped() -> None:
    t = Timing(max_delay_seconds=120)
    for d in (
        sync_definition(FNS, t, results_bucket="lake"),
        items_definition(FNS, t, results_bucket="lake"),
    ):
        tasks = _tasks(d["States"])
        assert len(tasks) >= 3
        for name, task in tasks:
            assert task["Retry"], name
            for r in task["Retry"]:
                assert r["JitterStrategy"] == "FULL" and r["MaxDelaySeconds"] == 120, (name, r)
    # AWS's limits for the fields (States Language: MaxDelaySeconds 0 < x < 31,622,401)
    assert 0 < Timing().max_delay_seconds < 31_622_401


def test_worst_case_retry_wait_is_bounded_by_the_cap() -> None:
    # Throttled used to back off 15 s x 2^n over 8 attempts (~64 min); with MaxDelaySeconds each wait is
    # capped (FULL jitter waits a random share of it, so this is the upper bound)
    t = Timing()
    throttled = next(r for r in retry_policy(t) if THROTTLED in r["ErrorEquals"])
    waits = [
        min(throttled["IntervalSeconds"] * throttled["BackoffRate"] ** i, throttled["MaxDelaySeconds"])
        for i in range(throttled["MaxAttempts"])
    ]
    uncapped = sum(throttled["IntervalSeconds"] * throttled["BackoffRate"] ** i for i in range(8))
    assert uncapped > 60 * 60  # what the issue measured
    assert sum(waits) == 15 + 30 + 60 + 120 + 240 + 300 + 300 + 300  # 22.75 min at most


def _hand_count_unit(t: Timing) -> int:
    # Independent count of the worst path, by hand from AWS's event types: every Task exhausts both
    # retriers (13 retries x 3 events), the notification wait times out into polling, the unit is checked
    # max_polls times with a Wait between checks, then ingested.
    task = 5 + 3 * (t.throttle_max_attempts + t.retry_max_attempts)
    request = task
    after_request = 2
    await_notification = task + 1  # + TaskSubmitted
    checks = t.max_polls * (task + 2)  # Check + AfterCheck
    waits = (t.max_polls - 1) * 2
    ingest = task
    done = 2
    return request + after_request + await_notification + checks + waits + ingest + done


@pytest.mark.parametrize("max_polls", [1, 5, 20])
def test_history_model_matches_a_hand_count(max_polls: int) -> None:
    t = Timing(max_polls=max_polls)
    states = sync_unit_states(FNS, t)
    assert history.unit_worst_events(states, "Request", max_visits={"Check": max_polls}) == _hand_count_unit(
        t
    )


def test_batches_fit_the_history_limit_and_deferral_bounds_polling() -> None:
    t = Timing()
    d = sync_definition(FNS, t, results_bucket="lake")
    batch = d["States"]["FanOut"]["ItemBatcher"]["MaxItemsPerBatch"]
    per_unit = _hand_count_unit(t)
    assert history.child_worst_events(per_unit, batch) <= 25_000
    assert history.child_worst_events(per_unit, batch + 1) > 25_000 or batch == 100  # the largest that fits
    assert history.parent_worst_events(d["States"], "Plan") < 200  # independent of the fleet size
    after = sync_unit_states(FNS, t)["AfterCheck"]["Choices"][0]
    assert after["Next"] == "UnitDeferred"
    assert {"Variable": "$.run_polls", "NumericGreaterThanEquals": t.max_polls} in after["And"]


def test_unbounded_loops_are_refused() -> None:
    states = sync_unit_states(FNS, Timing())
    with pytest.raises(ValueError, match="no bounded state"):
        history.unit_worst_events(states, "Request")


def test_step_error_messages_are_capped() -> None:
    err = as_step_error(RuntimeError("x" * 50_000))
    assert len(str(err)) == MAX_MESSAGE_CHARS


def test_overlapping_run_guard() -> None:
    t0, t1 = datetime(2026, 1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 2, tzinfo=UTC)
    old = {"executionArn": "arn:x:execution:m:a", "startDate": t0, "status": "RUNNING"}
    new = {"executionArn": "arn:x:execution:m:b", "startDate": t1, "status": "RUNNING"}
    assert fanout.overlapping([old, new], new["executionArn"]) == old["executionArn"]
    assert fanout.overlapping([old, new], old["executionArn"]) is None
    # simultaneous starts: exactly one goes on
    twin = {**new, "executionArn": "arn:x:execution:m:c", "startDate": t1}
    assert [fanout.overlapping([new, twin], e["executionArn"]) is None for e in (new, twin)] == [True, False]
    assert fanout.state_machine_arn("arn:aws:states:us-east-1:1:execution:splake-sync:abc") == (
        "arn:aws:states:us-east-1:1:stateMachine:splake-sync"
    )


def test_unit_results_from_result_writer_files() -> None:
    files: dict[str, Any] = {
        "res/run/manifest.json": {
            "DestinationBucket": "lake",
            "ResultFiles": {
                "SUCCEEDED": [{"Key": "res/run/SUCCEEDED_0.json", "Size": 1}],
                "FAILED": [{"Key": "res/run/FAILED_0.json", "Size": 1}],
                "PENDING": [],
            },
        },
        "res/run/SUCCEEDED_0.json": [
            {
                "Status": "SUCCEEDED",
                "Output": json.dumps([{"outcome": "done", "status": "INGESTED", "rows": 3}]),
            }
        ],
        "res/run/FAILED_0.json": [
            {
                "Status": "FAILED",
                "Error": "States.Timeout",
                "Cause": "child timed out",
                "Input": json.dumps({"Items": [{"key": "u1"}, {"key": "u2"}], "BatchInput": {}}),
            }
        ],
    }
    got = list(
        fanout.unit_results(
            {"ResultWriterDetails": {"Bucket": "lake", "Key": "res/run/manifest.json"}},
            lambda b, k: files[k],
        )
    )
    assert [r["outcome"] for r in got] == ["done", "failed", "failed"]
    assert [r["unit"] for r in got[1:]] == [{"key": "u1"}, {"key": "u2"}]
    assert got[1]["error"]["Error"] == "States.Timeout"


def test_plan_interleaves_accounts_and_keeps_every_unit() -> None:
    # the planner's order: each account's units together (account-major)
    units = [
        {"account_id": f"a{a}", "report_type": f"T{t}", "n": n}
        for a in range(5)
        for t in range(3)
        for n in range(2 if a % 2 else 1)
    ]
    out = fanout.interleave(units)
    assert sorted(map(json.dumps, out)) == sorted(map(json.dumps, units))  # nothing lost or duplicated
    # the first round has one unit of each account, and not all of the same report type
    first = out[:5]
    assert sorted(u["account_id"] for u in first) == [f"a{a}" for a in range(5)]
    assert len({u["report_type"] for u in first}) == 3
    # an account's units stay in its own (rotated) order
    for a in range(5):
        mine = [u for u in out if u["account_id"] == f"a{a}"]
        lane = [u for u in units if u["account_id"] == f"a{a}"]
        k = a % len(lane)
        assert mine == lane[k:] + lane[:k]
    assert fanout.interleave([]) == []


def test_overlapping_run_guard_is_wired_in_both_definitions() -> None:
    for d in (
        sync_definition(FNS, results_bucket="lake"),
        items_definition(FNS, results_bucket="lake"),
    ):
        states = d["States"]
        # Plan gets its own execution id (to find older running executions of its machine) …
        assert states["Plan"]["Parameters"]["Payload"]["execution_id.$"] == "$$.Execution.Id"
        # … and a skipped run ends successfully before the fan-out: no unit planned twice, no second token
        choices = states["Planned"]["Choices"]
        assert {"Variable": "$.skip", "BooleanEquals": True, "Next": "Skipped"} in choices
        assert states["Skipped"] == {"Type": "Succeed"} and states["Planned"]["Default"] == "FanOut"
