"""Deployment knobs of the splake stack (``-c key=value`` context values map onto them in ``app.py``)."""

from __future__ import annotations

from dataclasses import dataclass

# Amazon's SP-API notification publisher (Notifications API use-case guide, SQS tutorial step 6).
SPAPI_NOTIFICATIONS_PRINCIPAL = "437568002678"


@dataclass(frozen=True)
class SplakeProps:
    schedule_minutes: int = 60
    items_schedule_hours: int = 24
    namespace: str = "spapi"
    ssm_prefix: str = "/splake"
    secret_prefix: str = "splake/"  # noqa: S105 - a name prefix
    notify_timeout_seconds: int = 3600
    max_concurrency: int = 10  # child executions (batches of work units) at once
    unit_concurrency: int = 10  # work units at once inside one child execution
    lambda_memory_mb: int = 2048
    # "x86_64" or "arm64": the Lambda architecture and the image's build platform (linux/amd64, linux/arm64)
    architecture: str = "x86_64"
    notifications_timeout_seconds: int = 300  # the SQS consumer; the queue's visibility is 6x this
    notifications_max_concurrency: int = 5  # concurrent consumer invocations (SQS event source, >= 2)
    alarm_email: str | None = None  # subscribe this address to the alarms topic
    # The SP-API partner event source (created by `splake notifications setup`'s EventBridge destination):
    # "aws.partner/sellingpartnerapi.amazon.com/<aws account>/<application id>"; given, the stack creates
    # its partner event bus and the rule forwarding listings notifications to the queue.
    spapi_event_source: str | None = None
    cloudtrail: bool = False  # a CloudTrail trail of the lake bucket's data events (own log bucket)
    lake_formation: bool = False  # register the lake with Lake Formation and grant the writing roles
    maintenance_hours: int = 24  # compaction + snapshot expiry schedule
    expire_snapshots_days: int = 7  # snapshots older than this are expired (time travel window)
