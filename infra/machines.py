"""The Step Functions state machines (definitions from :mod:`splake.runners.aws.statemachine`) and their
schedules."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from infra.props import SplakeProps
from splake.runners.aws.statemachine import ITEMS_STEPS, SYNC_STEPS, Timing, items_definition, sync_definition


def sub(step: str) -> str:
    """The ``${…}`` substitution name of a step's function ARN in a definition."""
    return "Fn" + "".join(part.capitalize() for part in step.split("_"))


def add_sync_machine(
    stack: cdk.Stack, p: SplakeProps, name: str, functions: dict[str, lambda_.Function]
) -> sfn.StateMachine:
    definition = sync_definition(
        {s: "${" + sub(s) + "}" for s in SYNC_STEPS}, Timing(max_concurrency=p.max_concurrency)
    )
    role = iam.Role(stack, "SyncMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    machine = sfn.StateMachine(
        stack,
        "Sync",
        state_machine_name=name,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={sub(s): functions[s].function_arn for s in SYNC_STEPS},
        role=role,
        timeout=cdk.Duration.hours(24),
    )
    for s in SYNC_STEPS:
        functions[s].grant_invoke(role)
    events.Rule(
        stack,
        "SyncSchedule",
        schedule=events.Schedule.rate(cdk.Duration.minutes(p.schedule_minutes)),
        targets=[targets.SfnStateMachine(machine, input=events.RuleTargetInput.from_object({}))],
    )
    return machine


def add_items_machine(
    stack: cdk.Stack, p: SplakeProps, name: str, functions: dict[str, lambda_.Function]
) -> sfn.StateMachine:
    role = iam.Role(stack, "ItemsMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    definition = items_definition(
        {s: "${" + sub(s) + "}" for s in ITEMS_STEPS}, Timing(max_concurrency=p.max_concurrency)
    )
    machine = sfn.StateMachine(
        stack,
        "Items",
        state_machine_name=name,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={sub(s): functions[s].function_arn for s in ITEMS_STEPS},
        role=role,
        timeout=cdk.Duration.hours(12),
    )
    for s in ITEMS_STEPS:
        functions[s].grant_invoke(role)
    events.Rule(
        stack,
        "ItemsSchedule",
        schedule=events.Schedule.rate(cdk.Duration.hours(p.items_schedule_hours)),
        targets=[targets.SfnStateMachine(machine, input=events.RuleTargetInput.from_object({}))],
    )
    return machine
