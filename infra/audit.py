"""Optional governance: a CloudTrail trail of the lake bucket's data events, and Lake Formation
registration + grants for accounts that enforce Lake Formation permissions on the Glue catalog."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3

from infra.props import SplakeProps
from infra.storage import Storage

# The functions that create and commit Iceberg tables (their roles get the Lake Formation grants).
LAKE_WRITERS = ("request", "ingest", "notifications", "items_refresh", "maintain")


def add_lake_trail(stack: cdk.Stack, s: Storage) -> cloudtrail.Trail:
    """Who read or wrote which lake object (S3 data events), into a log bucket of its own."""
    logs_bucket = s3.Bucket(
        stack,
        "TrailLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    trail = cloudtrail.Trail(
        stack,
        "LakeTrail",
        bucket=logs_bucket,
        include_global_service_events=False,
        is_multi_region_trail=False,
        enable_file_validation=True,
        management_events=cloudtrail.ReadWriteType.NONE,
    )
    trail.add_s3_event_selector(
        [cloudtrail.S3EventSelector(bucket=s.bucket)],
        read_write_type=cloudtrail.ReadWriteType.ALL,
        include_management_events=False,
    )
    return trail


def add_lake_formation(stack: cdk.Stack, p: SplakeProps, s: Storage, writers: Sequence[iam.IRole]) -> None:
    """Register the lake bucket with Lake Formation (service-linked role) and grant the writing roles the
    database, its tables and the data location."""
    lf.CfnResource(
        stack,
        "LakeLocation",
        resource_arn=s.bucket.bucket_arn,
        use_service_linked_role=True,
    )
    for i, role in enumerate(writers):
        principal = lf.CfnPrincipalPermissions.DataLakePrincipalProperty(
            data_lake_principal_identifier=role.role_arn
        )
        lf.CfnPrincipalPermissions(
            stack,
            f"LfDatabase{i}",
            principal=principal,
            permissions=["CREATE_TABLE", "DESCRIBE", "ALTER"],
            permissions_with_grant_option=[],
            resource=lf.CfnPrincipalPermissions.ResourceProperty(
                database=lf.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=stack.account, name=p.namespace
                )
            ),
        ).add_dependency(s.database)
        lf.CfnPrincipalPermissions(
            stack,
            f"LfTables{i}",
            principal=principal,
            permissions=["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER"],
            permissions_with_grant_option=[],
            resource=lf.CfnPrincipalPermissions.ResourceProperty(
                table=lf.CfnPrincipalPermissions.TableResourceProperty(
                    catalog_id=stack.account, database_name=p.namespace, table_wildcard={}
                )
            ),
        ).add_dependency(s.database)
        lf.CfnPrincipalPermissions(
            stack,
            f"LfLocation{i}",
            principal=principal,
            permissions=["DATA_LOCATION_ACCESS"],
            permissions_with_grant_option=[],
            resource=lf.CfnPrincipalPermissions.ResourceProperty(
                data_location=lf.CfnPrincipalPermissions.DataLocationResourceProperty(
                    catalog_id=stack.account, resource_arn=s.bucket.bucket_arn
                )
            ),
        )
