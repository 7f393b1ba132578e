"""Where splake keeps things: the KMS key, the lake bucket, the state table, the notifications queues, the
LWA client secret, the Glue database and the Athena workgroup.

Built in the stack's own scope (not a nested construct) so the logical ids, and thus deployed resources,
stay what they were before the stack was split into modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sqs as sqs

from infra.props import SPAPI_NOTIFICATIONS_PRINCIPAL, SplakeProps


@dataclass(frozen=True)
class Storage:
    key: kms.Key
    bucket: s3.Bucket
    table: ddb.Table
    dlq: sqs.Queue
    queue: sqs.Queue
    client_secret: sm.Secret
    database: glue.CfnDatabase
    workgroup: athena.CfnWorkGroup
    workgroup_name: str


def add_storage(stack: cdk.Stack, construct_id: str, p: SplakeProps) -> Storage:
    key = kms.Key(
        stack,
        "Key",
        alias=f"alias/{construct_id}",
        description="splake: lake bucket, state table, queues, secrets",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # SP-API publishes to the KMS-encrypted queue: let its principal use the key, through SQS only.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AccountPrincipal(SPAPI_NOTIFICATIONS_PRINCIPAL)],
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],  # in a key policy "*" means this key
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}},
        )
    )

    bucket = s3.Bucket(
        stack,
        "Lake",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )

    table = ddb.Table(
        stack,
        "State",
        partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
        sort_key=ddb.Attribute(name="sk", type=ddb.AttributeType.STRING),
        billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
        # finished ledger entries and stale locks expire (splake.runners.aws.dynamo_state.ttl_of)
        time_to_live_attribute="ttl",
        encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )

    dlq = sqs.Queue(
        stack,
        "NotificationsDlq",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        retention_period=cdk.Duration.days(14),
        enforce_ssl=True,
    )
    queue = sqs.Queue(
        stack,
        "Notifications",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        # AWS: at least 6x the consumer function's timeout, so a batch being retried by Lambda is not
        # delivered to a second consumer meanwhile
        visibility_timeout=cdk.Duration.seconds(6 * p.notifications_timeout_seconds),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
        enforce_ssl=True,
    )
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AccountPrincipal(SPAPI_NOTIFICATIONS_PRINCIPAL)],
            actions=["sqs:SendMessage", "sqs:GetQueueAttributes"],
            resources=[queue.queue_arn],
        )
    )

    client_secret = sm.Secret(
        stack,
        "LwaClientSecret",
        secret_name=f"{p.secret_prefix}lwa/client_secret",
        description="splake: the SP-API app's LWA client secret (put the real value after deploy)",
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )

    database = glue.CfnDatabase(
        stack,
        "Catalog",
        catalog_id=stack.account,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=p.namespace,
            description="splake curated tables (Iceberg)",
            location_uri=f"s3://{bucket.bucket_name}/warehouse/{p.namespace}.db",
        ),
    )
    workgroup_name = f"{construct_id}-athena"
    workgroup = athena.CfnWorkGroup(
        stack,
        "Athena",
        name=workgroup_name,
        recursive_delete_option=True,
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                selected_engine_version="Athena engine version 3"
            ),
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=f"s3://{bucket.bucket_name}/athena-results/",
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_KMS", kms_key=key.key_arn
                ),
            ),
        ),
    )
    return Storage(key, bucket, table, dlq, queue, client_secret, database, workgroup, workgroup_name)
