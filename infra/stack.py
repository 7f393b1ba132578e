"""The splake stack: Step Functions orchestrating Lambdas, KMS everywhere, least-privilege IAM per function.

Resources:

- KMS key (rotation on) encrypting the lake bucket, state table, queues, secrets and Athena results.
- S3 lake bucket (raw zone + Iceberg warehouse), Glue database (Iceberg catalog), Athena workgroup.
- DynamoDB state table (ledger, cursors, registry, rate-limit buckets, locks, Step Functions task tokens).
- SQS notifications queue (SP-API REPORT_PROCESSING_FINISHED etc.) + dead-letter queue.
- Secrets Manager: the LWA client secret (set its value after deploy); refresh tokens are added per account.
- One Lambda function per pipeline step, each with its own role that can touch only what that step needs.
- Step Functions: the report sync (scheduled) and the catalog/listings refresh (scheduled).
- CloudWatch alarms: failed/throttled executions, Lambda errors/throttles, SP-API 429s, messages in the DLQ.

The state machine definitions come from :mod:`splake.runners.aws.statemachine` (the same data the moto
end-to-end test runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from splake.runners.aws import runtime as rt
from splake.runners.aws.statemachine import ITEMS_STEPS, SYNC_STEPS, Timing, items_definition, sync_definition

REPO_ROOT = Path(__file__).resolve().parent.parent
# Amazon's SP-API notification publisher (Notifications API use-case guide, SQS tutorial step 6).
SPAPI_NOTIFICATIONS_PRINCIPAL = "437568002678"
# Kept out of the Lambda image build context.
ASSET_EXCLUDES = [
    ".venv",
    ".git",
    "**/__pycache__",
    "**/*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "infra/node_modules",
    "infra/cdk.out",
    "**/cdk.out",
    "tests",
    "bench",
    "docs",
    "splake-demo",
    "splake-data",
    "*.egg-info",
    "src/*.egg-info",
    "test-output",
    ".hypothesis",
    ".ci",
]


@dataclass(frozen=True)
class SplakeProps:
    schedule_minutes: int = 60
    items_schedule_hours: int = 24
    namespace: str = "spapi"
    ssm_prefix: str = "/splake"
    secret_prefix: str = "splake/"  # noqa: S105 - a name prefix
    notify_timeout_seconds: int = 3600
    max_concurrency: int = 10
    lambda_memory_mb: int = 2048


# What each step's function may do (beyond writing its own logs).
STEP_ACCESS: dict[str, frozenset[str]] = {
    "plan": frozenset({"ssm", "state_read"}),
    "request": frozenset({"ssm", "state_rw", "secrets", "lake"}),
    "await_report": frozenset({"ssm", "state_rw", "task_response"}),
    "check": frozenset({"ssm", "state_rw", "secrets"}),
    "ingest": frozenset({"ssm", "state_rw", "secrets", "lake"}),
    "summarize": frozenset({"ssm"}),
    "notifications": frozenset({"ssm", "state_rw", "secrets", "lake", "task_response"}),
    "items_plan": frozenset({"ssm", "state_read"}),
    "items_refresh": frozenset({"ssm", "state_rw", "secrets", "lake"}),
}


class SplakeStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: SplakeProps | None = None, **kw: object
    ) -> None:
        super().__init__(scope, construct_id, **kw)  # type: ignore[arg-type]
        p = props or SplakeProps()
        self.props = p

        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{construct_id}",
            description="splake: lake bucket, state table, queues, secrets",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # SP-API publishes to the KMS-encrypted queue: let its principal use the key, through SQS only.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.AccountPrincipal(SPAPI_NOTIFICATIONS_PRINCIPAL)],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{self.region}.amazonaws.com"}},
            )
        )

        self.bucket = s3.Bucket(
            self,
            "Lake",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.table = ddb.Table(
            self,
            "State",
            partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name="sk", type=ddb.AttributeType.STRING),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.dlq = sqs.Queue(
            self,
            "NotificationsDlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            retention_period=cdk.Duration.days(14),
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Notifications",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            visibility_timeout=cdk.Duration.minutes(15),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
            enforce_ssl=True,
        )
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.AccountPrincipal(SPAPI_NOTIFICATIONS_PRINCIPAL)],
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes"],
                resources=[self.queue.queue_arn],
            )
        )

        self.client_secret = sm.Secret(
            self,
            "LwaClientSecret",
            secret_name=f"{p.secret_prefix}lwa/client_secret",
            description="splake: the SP-API app's LWA client secret (put the real value after deploy)",
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.database = glue.CfnDatabase(
            self,
            "Catalog",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=p.namespace,
                description="splake curated tables (Iceberg)",
                location_uri=f"s3://{self.bucket.bucket_name}/warehouse/{p.namespace}.db",
            ),
        )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "Athena",
            name=f"{construct_id}-athena",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/athena-results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn
                    ),
                ),
            ),
        )

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

        self.functions: dict[str, lambda_.Function] = {}
        for step, access in STEP_ACCESS.items():
            self.functions[step] = self._function(step, access, env)

        self.functions["notifications"].add_event_source(
            sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )

        definition = sync_definition(
            {s: "${" + _sub(s) + "}" for s in SYNC_STEPS}, Timing(max_concurrency=p.max_concurrency)
        )
        sm_role = iam.Role(self, "SyncMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        self.sync_machine = sfn.StateMachine(
            self,
            "Sync",
            state_machine_name=self.sync_machine_name,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
            definition_substitutions={_sub(s): self.functions[s].function_arn for s in SYNC_STEPS},
            role=sm_role,
            timeout=cdk.Duration.hours(24),
        )
        for s in SYNC_STEPS:
            self.functions[s].grant_invoke(sm_role)

        events.Rule(
            self,
            "SyncSchedule",
            schedule=events.Schedule.rate(cdk.Duration.minutes(p.schedule_minutes)),
            targets=[
                targets.SfnStateMachine(self.sync_machine, input=events.RuleTargetInput.from_object({}))
            ],
        )

        items_role = iam.Role(
            self, "ItemsMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com")
        )
        self.items_machine = sfn.StateMachine(
            self,
            "Items",
            state_machine_name=f"{construct_id}-items",
            definition_body=sfn.DefinitionBody.from_string(
                json.dumps(
                    items_definition(
                        {s: "${" + _sub(s) + "}" for s in ITEMS_STEPS},
                        Timing(max_concurrency=p.max_concurrency),
                    )
                )
            ),
            definition_substitutions={_sub(s): self.functions[s].function_arn for s in ITEMS_STEPS},
            role=items_role,
            timeout=cdk.Duration.hours(12),
        )
        for s in ITEMS_STEPS:
            self.functions[s].grant_invoke(items_role)
        events.Rule(
            self,
            "ItemsSchedule",
            schedule=events.Schedule.rate(cdk.Duration.hours(p.items_schedule_hours)),
            targets=[
                targets.SfnStateMachine(self.items_machine, input=events.RuleTargetInput.from_object({}))
            ],
        )
        self._alarms()

        cdk.CfnOutput(self, "LakeBucket", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "StateTable", value=self.table.table_name)
        cdk.CfnOutput(self, "NotificationsQueueUrl", value=self.queue.queue_url)
        cdk.CfnOutput(self, "NotificationsQueueArn", value=self.queue.queue_arn)
        cdk.CfnOutput(self, "KmsKeyArn", value=self.key.key_arn)
        cdk.CfnOutput(self, "SyncStateMachineArn", value=self.sync_machine.state_machine_arn)
        cdk.CfnOutput(self, "ItemsStateMachineArn", value=self.items_machine.state_machine_arn)
        cdk.CfnOutput(self, "AthenaWorkGroup", value=f"{construct_id}-athena")
        cdk.CfnOutput(self, "GlueDatabase", value=p.namespace)

    # --- per-function least privilege -----------------------------------------------------------------

    def _function(self, step: str, access: frozenset[str], env: dict[str, str]) -> lambda_.Function:
        name = step.replace("_", "-")
        log_group = logs.LogGroup(
            self,
            f"Logs-{name}",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=None,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"Role-{name}",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"splake {step} function (least privilege)",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        handler = "splake.runners.aws.handlers." + ("notifications" if step == "notifications" else step)
        fn = lambda_.DockerImageFunction(
            self,
            f"Fn-{name}",
            code=lambda_.DockerImageCode.from_image_asset(
                str(REPO_ROOT), file="infra/lambda/Dockerfile", exclude=ASSET_EXCLUDES, cmd=[handler]
            ),
            role=role,
            memory_size=self.props.lambda_memory_mb,
            timeout=cdk.Duration.minutes(15),
            ephemeral_storage_size=cdk.Size.gibibytes(10),
            environment=env,
            log_group=log_group,
            description=f"splake step: {step}",
        )
        # 429s seen by the SP-API client (logged by the shared rate limiter) become a metric
        logs.MetricFilter(
            self,
            f"Throttles-{name}",
            log_group=log_group,
            metric_namespace="splake",
            metric_name="SpApiThrottled",
            filter_pattern=logs.FilterPattern.string_value("$.event", "=", "rate_limit_throttled"),
            metric_value="1",
        )
        if "ssm" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
                    resources=[
                        self.format_arn(
                            service="ssm",
                            resource="parameter",
                            resource_name=f"{self.props.ssm_prefix.strip('/')}/*",
                        ),
                        self.format_arn(
                            service="ssm",
                            resource="parameter",
                            resource_name=self.props.ssm_prefix.strip("/"),
                        ),
                    ],
                )
            )
        table_arn = self.table.table_arn
        if "state_read" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"], resources=[table_arn]
                )
            )
        if "state_rw" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:ConditionCheckItem",
                    ],
                    resources=[table_arn],
                )
            )
        if "secrets" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[
                        self.format_arn(
                            service="secretsmanager",
                            resource="secret",
                            resource_name=f"{self.props.secret_prefix}*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
        if "secrets" in access:
            # LWA access tokens shared between functions until they expire (splake.runners.aws.token_cache)
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "secretsmanager:PutSecretValue",
                        "secretsmanager:CreateSecret",
                        "secretsmanager:TagResource",
                        "secretsmanager:DeleteSecret",
                    ],
                    resources=[
                        self.format_arn(
                            service="secretsmanager",
                            resource="secret",
                            resource_name=f"{self.props.secret_prefix}cache/*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
        # Every step reads/writes something encrypted with the stack key (table items at least).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[self.key.key_arn],
            )
        )
        if "lake" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[self.bucket.arn_for_objects("*")],
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[self.bucket.bucket_arn]
                )
            )
            db = self.props.namespace
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "glue:GetDatabase",
                        "glue:CreateDatabase",
                        "glue:GetTable",
                        "glue:GetTables",
                        "glue:CreateTable",
                        "glue:UpdateTable",
                    ],
                    resources=[
                        self.format_arn(service="glue", resource="catalog"),
                        self.format_arn(service="glue", resource="database", resource_name=db),
                        self.format_arn(service="glue", resource="table", resource_name=f"{db}/*"),
                    ],
                )
            )
        if "task_response" in access:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                    resources=[self.sync_machine_arn],
                )
            )
        return fn

    # --- alarms -----------------------------------------------------------------------------------------

    def _alarms(self) -> None:
        one: dict[str, Any] = {
            "threshold": 1,
            "evaluation_periods": 1,
            "treat_missing_data": cw.TreatMissingData.NOT_BREACHING,
        }
        cw.Alarm(
            self,
            "SyncFailed",
            metric=self.sync_machine.metric_failed(),
            alarm_description="a sync execution failed",
            **one,
        )
        cw.Alarm(
            self,
            "SyncThrottled",
            metric=self.sync_machine.metric_throttled(),
            alarm_description="Step Functions throttled the sync",
            **one,
        )
        cw.Alarm(
            self,
            "ItemsFailed",
            metric=self.items_machine.metric_failed(),
            alarm_description="a catalog/listings refresh failed",
            **one,
        )
        cw.Alarm(
            self,
            "SyncTimedOut",
            metric=self.sync_machine.metric_timed_out(),
            alarm_description="a sync execution timed out",
            **one,
        )
        cw.Alarm(
            self,
            "NotificationsDlqNotEmpty",
            metric=self.dlq.metric_approximate_number_of_messages_visible(),
            alarm_description="notifications could not be processed and went to the dead-letter queue",
            **one,
        )
        cw.Alarm(
            self,
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
            alarm_description="SP-API returned many 429s (limits lower than modelled, or too much concurrency)",  # noqa: E501
        )
        for step, fn in self.functions.items():
            name = step.replace("_", "-")
            cw.Alarm(
                self,
                f"Errors-{name}",
                metric=fn.metric_errors(),
                alarm_description=f"{step} function errors",
                **one,
            )
            cw.Alarm(
                self,
                f"LambdaThrottles-{name}",
                metric=fn.metric_throttles(),
                alarm_description=f"{step} function throttled",
                **one,
            )


def _sub(step: str) -> str:
    return "Fn" + "".join(part.capitalize() for part in step.split("_"))
