"""AWS backends of the ports (see :mod:`splake.ports`)."""

from __future__ import annotations

from splake.aws.sqs_queue import SqsQueue
from splake.runners.aws.dynamo_state import DynamoStateStore
from splake.runners.aws.s3_objects import S3ObjectStore
from splake.runners.aws.secrets_manager import SecretsManagerSecretStore
from splake.runners.aws.ssm_config import SsmSettingsStore

__all__ = ["DynamoStateStore", "S3ObjectStore", "SecretsManagerSecretStore", "SqsQueue", "SsmSettingsStore"]
