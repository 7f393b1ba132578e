"""Step Functions definitions (Amazon States Language), declared as Python data.

Used by the CDK stack (with ``${…}`` placeholders substituted by CloudFormation) and by the end-to-end test
on moto's Step Functions executor (with moto function ARNs). Every Task calls one thin Lambda handler from
:mod:`splake.runners.aws.handlers`; the handlers raise only the stable error names of
:mod:`splake.runners.aws.errors`, which the ``Retry``/``Catch`` blocks below match.

``sync``: Plan → Map over work units (accounts x marketplaces x report types) → per unit:
Request → (DONE: Ingest | seller with notifications: wait for REPORT_PROCESSING_FINISHED via a task token,
falling back to polling on timeout | otherwise: poll with ``Wait SecondsPath``) → Check → Ingest.
Failed units are caught and reported; the execution fails at the end when any unit failed (alarmed).

``items``: Plan → Map over (account, marketplace) → Refresh catalog/listings → Summarize.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splake.runners.aws.errors import RETRYABLE, THROTTLED

# Lambda function names (suffixes; the stack prefixes them) and the steps they run.
SYNC_STEPS = ("plan", "request", "await_report", "check", "ingest", "summarize")
ITEMS_STEPS = ("items_plan", "items_refresh", "summarize")

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_INVOKE_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


@dataclass(frozen=True)
class Timing:
    """Retry/concurrency knobs (waits between polls come from the payload: ``$.wait_seconds``)."""

    max_concurrency: int = 10
    retry_interval_seconds: int = 5
    retry_max_attempts: int = 5
    throttle_interval_seconds: int = 15
    throttle_max_attempts: int = 8
    backoff_rate: float = 2.0


def retry_policy(t: Timing) -> list[dict[str, Any]]:
    return [
        {
            "ErrorEquals": [THROTTLED],
            "IntervalSeconds": t.throttle_interval_seconds,
            "MaxAttempts": t.throttle_max_attempts,
            "BackoffRate": t.backoff_rate,
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
        },
    ]


# What each unit reports to Summarize: small (Step Functions payloads are limited to 256 KB).
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


def sync_definition(functions: dict[str, str], timing: Timing | None = None) -> dict[str, Any]:
    """The scheduled report sync. ``functions`` maps each of :data:`SYNC_STEPS` to a function name/ARN."""
    t = timing or Timing()
    missing = [s for s in SYNC_STEPS if s not in functions]
    if missing:
        raise ValueError(f"sync_definition: no function for steps {missing}")
    unit_states: dict[str, Any] = {
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
                {"Or": _status_in(*_WAITING), "Next": "PollWait"},
                {"Or": _status_in("FATAL"), "Next": "UnitDone"},
            ],
            "Default": "Ingest",
        },
        "Ingest": _catch_unit(_task(functions["ingest"], t, next_state="UnitDone")),
        "UnitDone": UNIT_DONE,
        "UnitFailed": UNIT_FAILED,
    }
    return {
        "Comment": "splake report sync: plan, fan out over accounts x marketplaces x report types, ingest",
        "StartAt": "Plan",
        "States": {
            "Plan": _task(functions["plan"], t, next_state="FanOut"),
            "FanOut": {
                "Type": "Map",
                "ItemsPath": "$.units",
                "MaxConcurrency": t.max_concurrency,
                "ItemSelector": {"unit.$": "$$.Map.Item.Value", "options.$": "$.options"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Request",
                    "States": unit_states,
                },
                "ResultPath": "$.results",
                "Next": "Summarize",
            },
            "Summarize": _task(
                functions["summarize"], t, next_state="AnyFailed", payload={"results.$": "$.results"}
            ),
            "AnyFailed": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.failed", "NumericGreaterThan": 0, "Next": "SyncFailed"}],
                "Default": "SyncSucceeded",
            },
            "SyncFailed": {
                "Type": "Fail",
                "Error": "splake.UnitsFailed",
                "Cause": "some work units failed; see the execution output of the Summarize step",
            },
            "SyncSucceeded": {"Type": "Succeed"},
        },
    }


def items_definition(functions: dict[str, str], timing: Timing | None = None) -> dict[str, Any]:
    """Catalog/listings refresh: plan (account, marketplace) pairs, refresh each, summarize."""
    t = timing or Timing()
    return {
        "Comment": "splake catalog and listings refresh",
        "StartAt": "Plan",
        "States": {
            "Plan": _task(functions["items_plan"], t, next_state="FanOut"),
            "FanOut": {
                "Type": "Map",
                "ItemsPath": "$.units",
                "MaxConcurrency": t.max_concurrency,
                "ItemSelector": {"unit.$": "$$.Map.Item.Value", "options.$": "$.options"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Refresh",
                    "States": {
                        "Refresh": _catch_unit(_task(functions["items_refresh"], t, next_state="UnitDone")),
                        "UnitDone": UNIT_DONE,
                        "UnitFailed": UNIT_FAILED,
                    },
                },
                "ResultPath": "$.results",
                "Next": "Summarize",
            },
            "Summarize": _task(
                functions["summarize"], t, next_state=None, payload={"results.$": "$.results"}
            ),
        },
    }
