"""Queue on Amazon SQS (at-least-once; redrive to the DLQ is configured on the queue itself)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.ports import QueueMessage

_GONE = {"ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"}


class SqsQueue:
    """:class:`splake.ports.Queue` on one SQS queue URL."""

    def __init__(self, queue_url: str, endpoint: AwsEndpoint | None = None, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("sqs")

    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
        extra: dict[str, Any] = {}
        if attributes:
            extra["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            }
        resp = self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body, **extra)
        return str(resp["MessageId"])

    def receive(
        self, *, max_messages: int = 10, wait_seconds: float = 0, visibility_timeout: int = 60
    ) -> list[QueueMessage]:
        resp = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=max(0, min(20, round(wait_seconds))),
            VisibilityTimeout=visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        return [message_from_sqs(m) for m in resp.get("Messages", [])]

    def delete(self, receipt: str) -> None:
        self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)

    def release(self, receipt: str) -> None:
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        except ClientError as exc:
            # already deleted or no longer in flight: nothing to release
            if error_code(exc) not in _GONE:
                raise


def message_from_sqs(m: Mapping[str, Any]) -> QueueMessage:
    """A QueueMessage from an SQS ReceiveMessage entry or a Lambda SQS event record (either key casing)."""
    attrs = m.get("MessageAttributes") or m.get("messageAttributes") or {}
    sys_attrs = m.get("Attributes") or m.get("attributes") or {}
    return QueueMessage(
        message_id=str(m.get("MessageId") or m.get("messageId")),
        body=str(m.get("Body") if "Body" in m else m.get("body", "")),
        receipt=str(m.get("ReceiptHandle") or m.get("receiptHandle")),
        receive_count=int(sys_attrs.get("ApproximateReceiveCount", 1)),
        attributes={k: str(v.get("StringValue") or v.get("stringValue") or "") for k, v in attrs.items()},
    )
