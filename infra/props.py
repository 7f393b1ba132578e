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
