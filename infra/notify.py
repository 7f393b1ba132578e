"""Where alarms and SP-API EventBridge notifications go: the alarms SNS topic (optional e-mail) and the
rule from the SP-API partner event source to the notifications queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs

from infra.props import SplakeProps
from infra.storage import Storage
from splake.runners.aws.eventbridge import listings_event_pattern


def add_alarm_topic(stack: cdk.Stack, p: SplakeProps, s: Storage) -> sns.Topic:
    topic = sns.Topic(stack, "Alarms", display_name="splake alarms", master_key=s.key, enforce_ssl=True)
    # CloudWatch publishes alarm state changes to the KMS-encrypted topic
    s.key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],  # in a key policy "*" means this key
        )
    )
    if p.alarm_email:
        topic.add_subscription(subs.EmailSubscription(p.alarm_email))
    cdk.CfnOutput(stack, "AlarmsTopicArn", value=topic.topic_arn)
    return topic


def add_partner_rule(stack: cdk.Stack, p: SplakeProps, s: Storage) -> events.Rule | None:
    """The partner event bus of the SP-API event source and a rule sending its listings notifications to
    the queue (SQS target: CDK adds the queue policy for events.amazonaws.com, scoped to this rule)."""
    source = p.spapi_event_source
    if not source:
        return None
    bus = events.EventBus(stack, "SpApiEventBus", event_source_name=source)  # named like its source
    pattern = listings_event_pattern(source)
    rule = events.Rule(
        stack,
        "SpApiListingsToQueue",
        event_bus=bus,
        description="SP-API listings notifications (EventBridge destination) -> splake notifications queue",
        event_pattern=events.EventPattern(source=pattern["source"]),
        targets=[targets.SqsQueue(s.queue, dead_letter_queue=s.dlq, retry_attempts=185)],
    )
    # EventBridge encrypts into the KMS-encrypted queues with the stack key
    s.key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            # (the rule's ARN would make a key -> rule -> queue -> key cycle: scope to this account)
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    return rule
