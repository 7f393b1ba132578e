"""One Lambda function per pipeline step, each with its own least-privilege role (:data:`STEP_ACCESS`)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from infra.props import SplakeProps
from infra.storage import Storage
from splake.reports.memory import ARROW_MEMORY_DEFAULTS
from splake.runners.aws.ssm_config import OBJECT_PREFIX as SETTINGS_OBJECTS
from splake.runners.aws.statemachine import PLANS_PREFIX, RESULTS_PREFIX

REPO_ROOT = Path(__file__).resolve().parent.parent
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

# The task-token callbacks: actions without resource-level permissions (their Resource must be "*").
TASK_RESPONSE_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")

# What each step's function may do (beyond writing its own logs).
# plan_write: write the Distributed Map's plan file; runs: list the machine's running executions (the
# overlapping-run guard); results_read: read the Distributed Map's result files.
STEP_ACCESS: dict[str, frozenset[str]] = {
    "plan": frozenset({"ssm", "state_read", "plan_write", "runs"}),
    "request": frozenset({"ssm", "state_rw", "secrets", "lake"}),
    "await_report": frozenset({"ssm", "state_rw", "task_response"}),
    "check": frozenset({"ssm", "state_rw", "secrets"}),
    "ingest": frozenset({"ssm", "state_rw", "secrets", "lake"}),
    "summarize": frozenset({"ssm", "results_read"}),
    "notifications": frozenset({"ssm", "state_rw", "secrets", "lake", "task_response"}),
    "items_plan": frozenset({"ssm", "state_read", "plan_write", "runs"}),
    "items_refresh": frozenset({"ssm", "state_rw", "secrets", "lake"}),
    "maintain": frozenset({"ssm", "state_rw", "lake"}),  # compaction + snapshot expiry (daily)
}


def add_function(
    stack: cdk.Stack,
    p: SplakeProps,
    s: Storage,
    step: str,
    access: frozenset[str],
    env: dict[str, str],
    sync_machine_arn: str,
    items_machine_arn: str,
) -> lambda_.Function:
    name = step.replace("_", "-")
    log_group = logs.LogGroup(
        stack,
        f"Logs-{name}",
        retention=logs.RetentionDays.ONE_MONTH,
        encryption_key=None,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        stack,
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
    arm = p.architecture == "arm64"
    fn = lambda_.DockerImageFunction(
        stack,
        f"Fn-{name}",
        code=lambda_.DockerImageCode.from_image_asset(
            str(REPO_ROOT),
            file="infra/lambda/Dockerfile",
            exclude=ASSET_EXCLUDES,
            cmd=[handler],
            # the image is built for the functions' architecture, whatever machine runs `cdk deploy`
            platform=ecr_assets.Platform.LINUX_ARM64 if arm else ecr_assets.Platform.LINUX_AMD64,
        ),
        architecture=lambda_.Architecture.ARM_64 if arm else lambda_.Architecture.X86_64,
        role=role,
        memory_size=p.lambda_memory_mb,
        timeout=cdk.Duration.seconds(p.notifications_timeout_seconds)
        if step == "notifications"
        else cdk.Duration.minutes(15),
        ephemeral_storage_size=cdk.Size.gibibytes(10),
        # Arrow's allocator returns freed pages at once (bounded RSS on GB documents, as the CLI does)
        environment={**ARROW_MEMORY_DEFAULTS, **env},
        log_group=log_group,
        description=f"splake step: {step}",
    )
    # 429s seen by the SP-API client (logged by the shared rate limiter) become a metric
    logs.MetricFilter(
        stack,
        f"Throttles-{name}",
        log_group=log_group,
        metric_namespace="splake",
        metric_name="SpApiThrottled",
        filter_pattern=logs.FilterPattern.string_value("$.event", "=", "rate_limit_throttled"),
        metric_value="1",
    )
    if "ssm" in access:
        # the settings: a pointer in SSM, the settings object in the bucket (splake.runners.aws.ssm_config)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[s.bucket.arn_for_objects(f"{SETTINGS_OBJECTS}/*")]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:GetParametersByPath"],
                resources=[
                    stack.format_arn(
                        service="ssm", resource="parameter", resource_name=f"{p.ssm_prefix.strip('/')}/*"
                    ),
                    stack.format_arn(
                        service="ssm", resource="parameter", resource_name=p.ssm_prefix.strip("/")
                    ),
                ],
            )
        )
    table_arn = s.table.table_arn
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
                    stack.format_arn(
                        service="secretsmanager",
                        resource="secret",
                        resource_name=f"{p.secret_prefix}*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
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
                    stack.format_arn(
                        service="secretsmanager",
                        resource="secret",
                        resource_name=f"{p.secret_prefix}cache/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
    # Every step reads/writes something encrypted with the stack key (table items at least).
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[s.key.key_arn],
        )
    )
    if "lake" in access:
        role.add_to_policy(
            iam.PolicyStatement(
                # DeleteObject: row drops rewrite files and pyiceberg removes superseded metadata
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[s.bucket.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[s.bucket.bucket_arn]
            )
        )
        db = p.namespace
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
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=db),
                    stack.format_arn(service="glue", resource="table", resource_name=f"{db}/*"),
                ],
            )
        )
    if "plan_write" in access:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[s.bucket.arn_for_objects(f"{PLANS_PREFIX}/*")]
            )
        )
    if "results_read" in access:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[s.bucket.arn_for_objects(f"{RESULTS_PREFIX}/*")]
            )
        )
    if "runs" in access:
        machine = items_machine_arn if step.startswith("items") else sync_machine_arn
        role.add_to_policy(iam.PolicyStatement(actions=["states:ListExecutions"], resources=[machine]))
    if "task_response" in access:
        # AWS's Service Authorization Reference lists no resource type (and no condition key) for
        # SendTaskSuccess/Failure/Heartbeat: a statement naming the state machine never matches them and
        # the call is denied in real AWS. "*" is the only grant that works; the task token (unguessable,
        # issued to this stack's machine) is what scopes the call.
        role.add_to_policy(iam.PolicyStatement(actions=list(TASK_RESPONSE_ACTIONS), resources=["*"]))
    return fn
