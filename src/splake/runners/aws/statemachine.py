"""Step Functions definitions (Amazon States Language), declared as Python data.

Used by the CDK stack (with ``${…}`` placeholders substituted by CloudFormation) and by the end-to-end tests
on moto's Step Functions executor (with moto function ARNs). Every Task calls one thin Lambda handler from
:mod:`splake.runners.aws.handlers`; the handlers raise only the stable error names of
:mod:`splake.runners.aws.errors`, which the ``Retry``/``Catch`` blocks below match.

Both machines fan out with a **Distributed Map**, so nothing proportional to the fleet travels in a state
payload (AWS caps those at 256 KB) or in one execution's history (25,000 events):

``Plan`` writes the work units to S3 (a JSON array) and returns only a pointer → ``FanOut`` reads them with
``ItemReader``, groups them with ``ItemBatcher`` (:func:`batch_size` units per batch, so that one child
execution's worst-case history fits, see :mod:`splake.runners.aws.history`) and starts one child execution
per batch, at most ``max_concurrency`` at once; a child runs its units through an inline Map (at most
``unit_concurrency`` at once) → ``ResultWriter`` writes the children's outputs to S3 → ``Summarize`` reads
the result manifest and fails the execution when any unit failed (alarmed).

``sync`` unit: Request → (DONE: Ingest | seller with notifications: wait for REPORT_PROCESSING_FINISHED via
a task token, falling back to polling on timeout | otherwise: poll with ``Wait SecondsPath``) → Check →
Ingest. A unit still waiting after ``max_polls`` checks in this execution is *deferred*: its ledger entry
stays in flight and the next scheduled run resumes it (bounded history, bounded execution time).

``items`` unit: Refresh catalog/listings of one (account, marketplace).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splake.runners.aws.errors import RETRYABLE, THROTTLED
from splake.runners.aws.history import HISTORY_LIMIT, child_worst_events, unit_worst_events

# Lambda function names (suffixes; the stack prefixes them) and the steps they run.
SYNC_STEPS = ("plan", "request", "await_report", "check", "ingest", "summarize")
ITEMS_STEPS = ("items_plan", "items_refresh", "summarize")

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_INVOKE_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
S3_PUT_OBJECT = "arn:aws:states:::s3:putObject"

# Where the Plan steps write the work units and the Distributed Maps write their results (lake bucket).
PLANS_PREFIX = "sfn/plans"
RESULTS_PREFIX = "sfn/results"
# Bytes of one batch (child execution input): well under the 256 KB payload limit.
MAX_BATCH_BYTES = 128 * 1024
# A child's output is its units' result records (UNIT_DONE/UNIT_DEFERRED/UNIT_FAILED): each at most this
# many bytes (error messages are capped by splake.runners.aws.errors.MAX_MESSAGE_CHARS), and together at
# most MAX_CHILD_OUTPUT_BYTES (under the 256 KB limit).
MAX_UNIT_RESULT_BYTES = 2048
MAX_CHILD_OUTPUT_BYTES = 200 * 1024


@dataclass(frozen=True)
class Timing:
    """Retry/concurrency knobs (waits between polls come from the payload: ``$.wait_seconds``)."""

    max_concurrency: int = 10  # child executions (batches of units) running at once
    unit_concurrency: int = 10  # units running at once inside one child execution
    retry_interval_seconds: int = 5
    retry_max_attempts: int = 5
    throttle_interval_seconds: int = 15
    throttle_max_attempts: int = 8
    backoff_rate: float = 2.0
    max_delay_seconds: int = 300  # cap of one retry's backoff (jittered: FULL)
    max_polls: int = 20  # report status checks per unit and execution; then the unit is deferred
    batch_size: int | None = None  # units per child execution; None: the most that fits the history


def retry_policy(t: Timing) -> list[dict[str, Any]]:
    jitter = {"MaxDelaySeconds": t.max_delay_seconds, "JitterStrategy": "FULL"}
    return [
        {
            "ErrorEquals": [THROTTLED],
            "IntervalSeconds": t.throttle_interval_seconds,
            "MaxAttempts": t.throttle_max_attempts,
            "BackoffRate": t.backoff_rate,
            **jitter,
        },
        {
            "ErrorEquals": [
                RETRYABLE,
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException",
            ],
            "IntervalSeconds": t.retry_interval_seconds,
            "MaxAttempts": t.retry_max_attempts,
            "BackoffRate": t.backoff_rate,
            **jitter,
        },
    ]


# What each unit reports to Summarize (through the ResultWriter files): small.
UNIT_DONE: dict[str, Any] = {
    "Type": "Pass",
    "Parameters": {
        "outcome": "done",
        "status.$": "$.status",
        "rows.$": "$.rows",
        "fatal_new.$": "$.fatal_new",
        "unit.$": "$.unit",
    },
    "End": True,
}
UNIT_DEFERRED: dict[str, Any] = {
    "Type": "Pass",
    "Parameters": {"outcome": "deferred", "status.$": "$.status", "unit.$": "$.unit"},
    "End": True,
}
UNIT_FAILED: dict[str, Any] = {
    "Type": "Pass",
    "Parameters": {"outcome": "failed", "unit.$": "$.unit", "error.$": "$.error"},
    "End": True,
}


def _task(
    function: str,
    t: Timing,
    *,
    next_state: str | None,
    result_path: str | None = "$",
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"FunctionName": function}
    if payload is None:
        params["Payload.$"] = "$"
    else:
        params["Payload"] = payload
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": params,
        "ResultSelector": {"result.$": "$.Payload"},
        "OutputPath": "$.result" if result_path == "$" else "$",
        "Retry": retry_policy(t),
    }
    if result_path != "$":
        state["ResultPath"] = result_path
        state.pop("OutputPath")
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def _catch_unit(state: dict[str, Any]) -> dict[str, Any]:
    # splake.Fatal / splake.BadData, and Retryable/Throttled once their retries are exhausted: record the
    # unit as failed and let the other units go on.
    state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "UnitFailed"}]
    return state


_WAITING = ("NEW", "IN_QUEUE", "IN_PROGRESS")


def _status_in(*statuses: str) -> list[dict[str, Any]]:
    return [{"Variable": "$.status", "StringEquals": st} for st in statuses]


def sync_unit_states(functions: dict[str, str], t: Timing) -> dict[str, Any]:
    """The states one sync work unit runs through (inside a child execution's inline Map)."""
    return {
        "Request": _catch_unit(_task(functions["request"], t, next_state="AfterRequest")),
        "AfterRequest": {
            "Type": "Choice",
            "Choices": [
                {"Or": _status_in("LANDED", "FATAL"), "Next": "UnitDone"},
                {
                    "And": [{"Or": _status_in(*_WAITING)}, {"Variable": "$.notify", "BooleanEquals": True}],
                    "Next": "AwaitNotification",
                },
                {"Or": _status_in(*_WAITING), "Next": "PollWait"},
            ],
            # DONE / CANCELLED / INGESTED: ingest (a no-op that moves the cursor for the last two)
            "Default": "Ingest",
        },
        "AwaitNotification": {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE_CALLBACK,
            "Parameters": {
                "FunctionName": functions["await_report"],
                "Payload": {"task_token.$": "$$.Task.Token", "unit.$": "$"},
            },
            "TimeoutSecondsPath": "$.notify_timeout_seconds",
            "ResultPath": "$.notification",
            "Retry": retry_policy(t),
            # No notification in time (or the waiter failed): fall back to polling.
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notification_error", "Next": "Check"}],
            "Next": "Check",
        },
        "PollWait": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Check"},
        "Check": _catch_unit(_task(functions["check"], t, next_state="AfterCheck")),
        "AfterCheck": {
            "Type": "Choice",
            "Choices": [
                # Check counts its calls in $.run_polls: a unit still waiting after max_polls is left in
                # flight for the next execution (bounded history; the ledger keeps its report id).
                {
                    "And": [
                        {"Or": _status_in(*_WAITING)},
                        {"Variable": "$.run_polls", "NumericGreaterThanEquals": t.max_polls},
                    ],
                    "Next": "UnitDeferred",
                },
                {"Or": _status_in(*_WAITING), "Next": "PollWait"},
                {"Or": _status_in("FATAL"), "Next": "UnitDone"},
            ],
            "Default": "Ingest",
        },
        "Ingest": _catch_unit(_task(functions["ingest"], t, next_state="UnitDone")),
        "UnitDone": UNIT_DONE,
        "UnitDeferred": UNIT_DEFERRED,
        "UnitFailed": UNIT_FAILED,
    }


def items_unit_states(functions: dict[str, str], t: Timing) -> dict[str, Any]:
    return {
        "Refresh": _catch_unit(_task(functions["items_refresh"], t, next_state="UnitDone")),
        "UnitDone": UNIT_DONE,
        "UnitFailed": UNIT_FAILED,
    }


def batch_size(unit_states: dict[str, Any], start_at: str, t: Timing) -> int:
    """Units per child execution: the most whose worst-case history stays under AWS's 25,000 events and
    whose results fit one state payload (or ``t.batch_size`` if smaller)."""
    per_unit = unit_worst_events(unit_states, start_at, max_visits={"Check": t.max_polls})
    fits = 0
    while child_worst_events(per_unit, fits + 1) <= HISTORY_LIMIT:
        fits += 1
    if fits < 1:
        raise ValueError(f"one unit's worst-case history ({per_unit} events) exceeds {HISTORY_LIMIT}")
    fits = min(fits, MAX_CHILD_OUTPUT_BYTES // MAX_UNIT_RESULT_BYTES)
    return min(fits, t.batch_size) if t.batch_size else fits


def fan_out(
    unit_states: dict[str, Any], start_at: str, t: Timing, results_bucket: str, kind: str, next_state: str
) -> dict[str, Any]:
    """The Distributed Map over the plan file ``$.plan`` (``{"bucket", "key"}``) written by Plan."""
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": S3_GET_OBJECT,
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.plan.bucket", "Key.$": "$.plan.key"},
        },
        "ItemBatcher": {
            "MaxItemsPerBatch": batch_size(unit_states, start_at, t),
            "MaxInputBytesPerBatch": MAX_BATCH_BYTES,
            "BatchInput": {"options.$": "$.options"},
        },
        "MaxConcurrency": t.max_concurrency,
        # A failed child (e.g. timed out) must not hide the others' results: Summarize counts its units.
        "ToleratedFailurePercentage": 100.0,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Units",
            "States": {
                "Units": {
                    "Type": "Map",
                    "ItemsPath": "$.Items",
                    "MaxConcurrency": t.unit_concurrency,
                    "ItemSelector": {"unit.$": "$$.Map.Item.Value", "options.$": "$.BatchInput.options"},
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": start_at,
                        "States": unit_states,
                    },
                    "End": True,
                }
            },
        },
        "ResultWriter": {
            "Resource": S3_PUT_OBJECT,
            "Parameters": {"Bucket": results_bucket, "Prefix": f"{RESULTS_PREFIX}/{kind}"},
        },
        "ResultPath": "$.results",
        "Next": next_state,
    }


def _machine(
    comment: str,
    plan_fn: str,
    summarize_fn: str,
    unit_states: dict[str, Any],
    start_at: str,
    t: Timing,
    results_bucket: str,
    kind: str,
) -> dict[str, Any]:
    return {
        "Comment": comment,
        "StartAt": "Plan",
        "States": {
            "Plan": _task(
                plan_fn,
                t,
                next_state="Planned",
                payload={"input.$": "$", "execution_id.$": "$$.Execution.Id"},
            ),
            "Planned": {
                "Type": "Choice",
                "Choices": [
                    # another execution of this machine is still running: don't re-plan its units
                    {"Variable": "$.skip", "BooleanEquals": True, "Next": "Skipped"},
                    {"Variable": "$.units", "NumericEquals": 0, "Next": "Skipped"},
                ],
                "Default": "FanOut",
            },
            "Skipped": {"Type": "Succeed"},
            "FanOut": fan_out(unit_states, start_at, t, results_bucket, kind, "Summarize"),
            "Summarize": _task(
                summarize_fn,
                t,
                next_state="AnyFailed",
                payload={"results.$": "$.results", "planned.$": "$.units"},
            ),
            "AnyFailed": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.failed", "NumericGreaterThan": 0, "Next": "Failed"}],
                "Default": "Succeeded",
            },
            "Failed": {
                "Type": "Fail",
                "Error": "splake.UnitsFailed",
                "Cause": "some work units failed; see the execution output of the Summarize step",
            },
            "Succeeded": {"Type": "Succeed"},
        },
    }


def _check(functions: dict[str, str], steps: tuple[str, ...], name: str) -> None:
    missing = [s for s in steps if s not in functions]
    if missing:
        raise ValueError(f"{name}: no function for steps {missing}")


def sync_definition(
    functions: dict[str, str], timing: Timing | None = None, *, results_bucket: str
) -> dict[str, Any]:
    """The scheduled report sync. ``functions`` maps each of :data:`SYNC_STEPS` to a function name/ARN;
    ``results_bucket`` receives the Distributed Map's results (the lake bucket)."""
    t = timing or Timing()
    _check(functions, SYNC_STEPS, "sync_definition")
    return _machine(
        "splake report sync: plan, fan out over accounts x marketplaces x report types, ingest",
        functions["plan"],
        functions["summarize"],
        sync_unit_states(functions, t),
        "Request",
        t,
        results_bucket,
        "sync",
    )


def items_definition(
    functions: dict[str, str], timing: Timing | None = None, *, results_bucket: str
) -> dict[str, Any]:
    """Catalog/listings refresh: plan (account, marketplace) pairs, refresh each, summarize; the
    execution fails when a refresh failed."""
    t = timing or Timing()
    _check(functions, ITEMS_STEPS, "items_definition")
    return _machine(
        "splake catalog and listings refresh",
        functions["items_plan"],
        functions["summarize"],
        items_unit_states(functions, t),
        "Refresh",
        t,
        results_bucket,
        "items",
    )
