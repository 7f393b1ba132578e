"""The Step Functions state machines (definitions from :mod:`splake.runners.aws.statemachine`) and their
schedules."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn

from infra.props import SplakeProps
from infra.storage import Storage
from splake.runners.aws.statemachine import (
    ITEMS_STEPS,
    PLANS_PREFIX,
    RESULTS_PREFIX,
    SYNC_STEPS,
    Timing,
    items_definition,
    sync_definition,
)


def sub(step: str) -> str:
    """The ``${…}`` substitution name of a step's function ARN in a definition."""
    return "Fn" + "".join(part.capitalize() for part in step.split("_"))


BUCKET_SUB = "LakeBucket"


def timing(p: SplakeProps) -> Timing:
    return Timing(max_concurrency=p.max_concurrency, unit_concurrency=p.unit_concurrency)


def _machine_role(stack: cdk.Stack, role_id: str, name: str, s: Storage) -> iam.Role:
    """What a fan-out machine itself needs besides invoking its functions: read the plan file, write the
    Distributed Map results (SSE-KMS with the stack key) and run its own child executions."""
    role = iam.Role(stack, role_id, assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[s.bucket.arn_for_objects(f"{PLANS_PREFIX}/*")]
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "s3:PutObject",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:AbortMultipartUpload",
            ],
            resources=[s.bucket.arn_for_objects(f"{RESULTS_PREFIX}/*")],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[s.key.key_arn])
    )
    machine_arn = stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    executions = stack.format_arn(
        service="states",
        resource="execution",
        resource_name=f"{name}/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine_arn]))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions]
        )
    )
    # (tracing_enabled adds the X-Ray statement, logs the log-delivery statement: both need "*")
    return role


def _log_options(stack: cdk.Stack, log_id: str) -> sfn.LogOptions:
    group = logs.LogGroup(
        stack, log_id, retention=logs.RetentionDays.THREE_MONTHS, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    # ERROR level: failed states and executions, without their data (state payloads hold no secrets, but
    # they do hold seller ids; ask for ALL + include_execution_data when debugging)
    return sfn.LogOptions(destination=group, level=sfn.LogLevel.ERROR, include_execution_data=False)


def add_sync_machine(
    stack: cdk.Stack, p: SplakeProps, name: str, functions: dict[str, lambda_.Function], s: Storage
) -> sfn.StateMachine:
    definition = sync_definition(
        {st: "${" + sub(st) + "}" for st in SYNC_STEPS}, timing(p), results_bucket="${" + BUCKET_SUB + "}"
    )
    role = _machine_role(stack, "SyncMachineRole", name, s)
    machine = sfn.StateMachine(
        stack,
        "Sync",
        state_machine_name=name,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={
            **{sub(st): functions[st].function_arn for st in SYNC_STEPS},
            BUCKET_SUB: s.bucket.bucket_name,
        },
        role=role,
        timeout=cdk.Duration.hours(24),
        tracing_enabled=True,
        logs=_log_options(stack, "SyncMachineLogs"),
    )
    for st in SYNC_STEPS:
        functions[st].grant_invoke(role)
    events.Rule(
        stack,
        "SyncSchedule",
        schedule=events.Schedule.rate(cdk.Duration.minutes(p.schedule_minutes)),
        targets=[targets.SfnStateMachine(machine, input=events.RuleTargetInput.from_object({}))],
    )
    return machine


def add_maintenance_schedule(stack: cdk.Stack, p: SplakeProps, fn: lambda_.Function) -> events.Rule:
    """Daily lake maintenance: compaction and snapshot expiry (splake.runners.aws.handlers.maintain)."""
    return events.Rule(
        stack,
        "MaintenanceSchedule",
        schedule=events.Schedule.rate(cdk.Duration.hours(p.maintenance_hours)),
        targets=[
            targets.LambdaFunction(
                fn, event=events.RuleTargetInput.from_object({"expire_days": p.expire_snapshots_days})
            )
        ],
    )


def add_items_machine(
    stack: cdk.Stack, p: SplakeProps, name: str, functions: dict[str, lambda_.Function], s: Storage
) -> sfn.StateMachine:
    role = _machine_role(stack, "ItemsMachineRole", name, s)
    definition = items_definition(
        {st: "${" + sub(st) + "}" for st in ITEMS_STEPS}, timing(p), results_bucket="${" + BUCKET_SUB + "}"
    )
    machine = sfn.StateMachine(
        stack,
        "Items",
        state_machine_name=name,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={
            **{sub(st): functions[st].function_arn for st in ITEMS_STEPS},
            BUCKET_SUB: s.bucket.bucket_name,
        },
        role=role,
        timeout=cdk.Duration.hours(12),
        tracing_enabled=True,
        logs=_log_options(stack, "ItemsMachineLogs"),
    )
    for st in ITEMS_STEPS:
        functions[st].grant_invoke(role)
    events.Rule(
        stack,
        "ItemsSchedule",
        schedule=events.Schedule.rate(cdk.Duration.hours(p.items_schedule_hours)),
        targets=[targets.SfnStateMachine(machine, input=events.RuleTargetInput.from_object({}))],
    )
    return machine
