"""The splake stack: Step Functions orchestrating Lambdas, KMS everywhere, least-privilege IAM per function.

Resources (one module each, all built in this stack's scope so logical ids don't depend on the split):

- :mod:`infra.storage`: KMS key (rotation on) encrypting the lake bucket, state table, queues, secrets and
  Athena results; S3 lake bucket (raw zone + Iceberg warehouse), Glue database (Iceberg catalog), Athena
  workgroup; DynamoDB state table (ledger, cursors, registry, rate-limit buckets, locks, task tokens);
  SQS notifications queue + dead-letter queue; the LWA client secret (refresh tokens are added per account).
- :mod:`infra.functions`: one Lambda function per pipeline step, each with its own role that can touch only
  what that step needs.
- :mod:`infra.machines`: Step Functions: the report sync (scheduled) and the catalog/listings refresh
  (scheduled). Definitions come from :mod:`splake.runners.aws.statemachine` (the same data the moto
  end-to-end tests run).
- :mod:`infra.alarms`: CloudWatch alarms (failed/throttled executions, Lambda errors/throttles, SP-API
  429s, messages in the DLQ).

Optional parts (e.g. an OAuth redirect endpoint) go in their own module and take the :class:`SplakeStack`
attributes they need (``key``, ``table``, ``bucket``, ``functions``…).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Stack
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.alarms import add_alarms
from infra.audit import LAKE_WRITERS, add_lake_formation, add_lake_trail
from infra.functions import ASSET_EXCLUDES, REPO_ROOT, STEP_ACCESS, add_function
from infra.machines import add_items_machine, add_maintenance_schedule, add_sync_machine, sub
from infra.notify import add_alarm_topic, add_partner_rule
from infra.props import SPAPI_NOTIFICATIONS_PRINCIPAL, SplakeProps
from infra.storage import add_storage
from splake.runners.aws import runtime as rt

__all__ = [
    "ASSET_EXCLUDES",
    "REPO_ROOT",
    "SPAPI_NOTIFICATIONS_PRINCIPAL",
    "STEP_ACCESS",
    "SplakeProps",
    "SplakeStack",
    "_sub",
]

_sub = sub  # the name tests and older code import


class SplakeStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: SplakeProps | None = None, **kw: object
    ) -> None:
        super().__init__(scope, construct_id, **kw)  # type: ignore[arg-type]
        p = props or SplakeProps()
        self.props = p

        self.storage = st = add_storage(self, construct_id, p)
        self.key, self.bucket, self.table = st.key, st.bucket, st.table
        self.queue, self.dlq, self.client_secret = st.queue, st.dlq, st.client_secret
        self.database, self.workgroup = st.database, st.workgroup

        self.sync_machine_name = f"{construct_id}-sync"
        self.sync_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.sync_machine_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        env = rt.Runtime(
            table=self.table.table_name,
            bucket=self.bucket.bucket_name,
            endpoint=rt.AwsEndpoint(region=self.region),
            kms_key_id=self.key.key_arn,
            ssm_prefix=p.ssm_prefix,
            secret_prefix=p.secret_prefix,
            queue_url=self.queue.queue_url,
            notify_timeout_seconds=p.notify_timeout_seconds,
        ).env()
        self.items_machine_name = f"{construct_id}-items"
        self.items_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.items_machine_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.functions = {
            step: add_function(self, p, st, step, access, env, self.sync_machine_arn, self.items_machine_arn)
            for step, access in STEP_ACCESS.items()
        }
        self.functions["notifications"].add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                report_batch_item_failures=True,
                max_concurrency=p.notifications_max_concurrency,
            )
        )
        self.sync_machine = add_sync_machine(self, p, self.sync_machine_name, self.functions, st)
        self.maintenance = add_maintenance_schedule(self, p, self.functions["maintain"])
        self.items_machine = add_items_machine(self, p, self.items_machine_name, self.functions, st)
        self.alarms = add_alarms(self, self.sync_machine, self.items_machine, self.dlq, self.functions)
        self.alarm_topic = add_alarm_topic(self, p, st)
        for alarm in self.alarms:
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        self.partner_rule = add_partner_rule(self, p, st)
        if p.cloudtrail:
            add_lake_trail(self, st)
        if p.lake_formation:
            add_lake_formation(self, p, st, [self.functions[s].role for s in LAKE_WRITERS])

        cdk.CfnOutput(self, "LakeBucket", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "StateTable", value=self.table.table_name)
        cdk.CfnOutput(self, "NotificationsQueueUrl", value=self.queue.queue_url)
        cdk.CfnOutput(self, "NotificationsQueueArn", value=self.queue.queue_arn)
        cdk.CfnOutput(self, "KmsKeyArn", value=self.key.key_arn)
        cdk.CfnOutput(self, "SyncStateMachineArn", value=self.sync_machine.state_machine_arn)
        cdk.CfnOutput(self, "ItemsStateMachineArn", value=self.items_machine.state_machine_arn)
        cdk.CfnOutput(self, "AthenaWorkGroup", value=st.workgroup_name)
        cdk.CfnOutput(self, "GlueDatabase", value=p.namespace)
