"""Provision and open the notifications queue.

:func:`ensure_queue` creates (idempotently) the SQS queue, its dead-letter queue with a redrive policy
(``maxReceiveCount``), and the queue policy that lets Amazon's SP-API principal deliver to it
(``arn:aws:iam::437568002678:root``: ``sqs:SendMessage`` + ``sqs:GetQueueAttributes``).
:func:`open_queue` returns the :class:`~splake.ports.Queue` for ``[notifications]``: SQS for an
``https://`` / ``http://`` queue URL, the local SQLite queue for a ``sqlite:`` URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from splake.config import Settings
from splake.errors import ConfigError
from splake.ports import Queue

SP_API_PRINCIPAL = "arn:aws:iam::437568002678:root"


@dataclass(frozen=True)
class QueueInfo:
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


def queue_policy(queue_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowSellingPartnerApiNotifications",
                    "Effect": "Allow",
                    "Principal": {"AWS": SP_API_PRINCIPAL},
                    "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                    "Resource": queue_arn,
                }
            ],
        }
    )


def ensure_queue(
    name: str, *, region: str, endpoint_url: str | None = None, max_receive_count: int = 5
) -> QueueInfo:
    """Create (or reuse) ``name`` and ``name-dlq`` with redrive and the SP-API send policy."""
    from splake.aws.clients import AwsEndpoint

    sqs = AwsEndpoint(region=region, endpoint_url=endpoint_url).client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
            ),
            "Policy": queue_policy(arn),
            "VisibilityTimeout": "120",
        },
    )
    return QueueInfo(url=url, arn=arn, dlq_url=dlq_url, dlq_arn=dlq_arn)


def open_queue(settings: Settings, url: str | None = None) -> Queue:
    """The notifications queue of the config (or ``url``)."""
    target = url or settings.notifications.queue_url
    if not target:
        raise ConfigError(
            "[notifications].queue_url is not set",
            hint="run `splake notifications setup --create-queue NAME` and put the printed URL in the config",
        )
    if target.startswith("sqlite:"):
        from splake.notifications.queue import SqliteQueue

        path, _, name = target.removeprefix("sqlite:").partition("#")
        return SqliteQueue(Path(path), name or "notifications", max_receive_count=5)
    if target.startswith(("https://", "http://")):
        from splake.aws.clients import AwsEndpoint
        from splake.aws.sqs_queue import SqsQueue

        endpoint = AwsEndpoint(
            region=settings.notifications.aws_region, endpoint_url=settings.notifications.aws_endpoint_url
        )
        return SqsQueue(target, endpoint)
    raise ConfigError(
        f"unsupported queue URL {target!r}",
        hint="use an SQS queue URL (https://sqs.<region>.amazonaws.com/<acct>/<q>) or sqlite:<path>#<name>",
    )
