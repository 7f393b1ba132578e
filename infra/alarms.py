"""CloudWatch alarms: failed/throttled/timed-out executions, Lambda errors and throttles, the DLQ, 429s."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn


def add_alarms(
    stack: cdk.Stack,
    sync_machine: sfn.StateMachine,
    items_machine: sfn.StateMachine,
    dlq: sqs.Queue,
    functions: dict[str, lambda_.Function],
) -> list[cw.Alarm]:
    one: dict[str, Any] = {
        "threshold": 1,
        "evaluation_periods": 1,
        "treat_missing_data": cw.TreatMissingData.NOT_BREACHING,
    }
    alarms = [
        cw.Alarm(
            stack,
            "SyncFailed",
            metric=sync_machine.metric_failed(),
            alarm_description="a sync execution failed",
            **one,
        ),
        cw.Alarm(
            stack,
            "SyncThrottled",
            metric=sync_machine.metric_throttled(),
            alarm_description="Step Functions throttled the sync",
            **one,
        ),
        cw.Alarm(
            stack,
            "ItemsFailed",
            metric=items_machine.metric_failed(),
            alarm_description="a catalog/listings refresh failed",
            **one,
        ),
        cw.Alarm(
            stack,
            "SyncTimedOut",
            metric=sync_machine.metric_timed_out(),
            alarm_description="a sync execution timed out",
            **one,
        ),
        cw.Alarm(
            stack,
            "NotificationsDlqNotEmpty",
            metric=dlq.metric_approximate_number_of_messages_visible(),
            alarm_description="notifications could not be processed and went to the dead-letter queue",
            **one,
        ),
        cw.Alarm(
            stack,
            "SpApiThrottled",
            metric=cw.Metric(
                namespace="splake",
                metric_name="SpApiThrottled",
                statistic="Sum",
                period=cdk.Duration.minutes(15),
            ),
            threshold=20,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                "SP-API returned many 429s (limits lower than modelled, or too much concurrency)"
            ),
        ),
    ]
    for step, fn in functions.items():
        name = step.replace("_", "-")
        alarms.append(
            cw.Alarm(
                stack,
                f"Errors-{name}",
                metric=fn.metric_errors(),
                alarm_description=f"{step} function errors",
                **one,
            )
        )
        alarms.append(
            cw.Alarm(
                stack,
                f"LambdaThrottles-{name}",
                metric=fn.metric_throttles(),
                alarm_description=f"{step} function throttled",
                **one,
            )
        )
    return alarms
