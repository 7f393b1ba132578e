"""Notification destinations/subscriptions (state held by the sandbox) and delivery to SQS.

SQS destinations get the notification JSON as the message body. EventBridge destinations get an
EventBridge event envelope forwarded to ``SandboxConfig.eventbridge_queue_url`` (stands in for the
customer's EventBridge rule → SQS target).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from splake.logs import get_logger, log_event

log = get_logger(__name__)


@dataclass
class Destination:
    destination_id: str
    name: str
    kind: Literal["sqs", "eventBridge"]
    sqs_arn: str | None = None
    region: str | None = None  # eventBridge
    account_id: str | None = None  # eventBridge: the customer's AWS account id

    def resource(self) -> dict[str, Any]:
        if self.kind == "sqs":
            return {"sqs": {"arn": self.sqs_arn}}
        return {"eventBridge": {"name": self.name, "region": self.region, "accountId": self.account_id}}


@dataclass
class Subscription:
    subscription_id: str
    notification_type: str
    selling_partner_id: str
    destination_id: str
    payload_version: str
    processing_directive: dict[str, Any] | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


def iso_now(now: datetime | None = None) -> str:
    t = now or datetime.now(UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def notification_metadata(
    application_id: str, subscription_id: str, now: datetime | None = None
) -> dict[str, str]:
    """camelCase metadata (Reports/Orders style); Listings notifications use PascalCase (``pascal``)."""
    return {
        "applicationId": application_id,
        "subscriptionId": subscription_id,
        "publishTime": iso_now(now),
        "notificationId": str(uuid.uuid4()),
    }


def pascal(meta: dict[str, str]) -> dict[str, str]:
    return {k[0].upper() + k[1:]: v for k, v in meta.items()}


def eventbridge_envelope(
    notification: dict[str, Any], detail_type: str, application_id: str, aws_account_id: str, region: str
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": f"aws.partner/sellingpartnerapi.amazon.com/{application_id}",
        "account": aws_account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": notification,
    }


def queue_name_from_arn(arn: str) -> tuple[str, str, str]:
    """``arn:aws:sqs:<region>:<account>:<name>`` → (region, account, name)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {arn!r}")
    return parts[3], parts[4], parts[5]


class SqsSender:
    """Thin boto3 adapter: send a JSON body to a queue given by ARN or URL."""

    def __init__(self, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            import boto3

            self._clients[region] = boto3.client(
                "sqs",
                region_name=region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 - moto/loopback credentials
            )
        return self._clients[region]

    def send_to_arn(self, arn: str, body: dict[str, Any]) -> None:
        region, account, name = queue_name_from_arn(arn)
        client = self._client(region)
        url = client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody=json.dumps(body, ensure_ascii=False))

    def send_to_url(self, url: str, body: dict[str, Any]) -> None:
        client = self._client(self.region)
        client.send_message(QueueUrl=url, MessageBody=json.dumps(body, ensure_ascii=False))


def log_delivery_failure(kind: str, notification_type: str, error: Exception) -> None:
    log_event(
        log,
        "sandbox_notification_failed",
        destination=kind,
        notification_type=notification_type,
        error=str(error),
    )
