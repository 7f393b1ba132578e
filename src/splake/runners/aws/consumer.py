"""The notifications consumer on AWS (the SQS event source's Lambda handler) and the Step Functions task-token
waiters it releases when a report finishes.

``splake.runners.aws.handlers.notifications`` (re-exported there) is the function's entry point.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.sqs_queue import message_from_sqs
from splake.errors import FatalError
from splake.logs import configure_logging, get_logger, log_event
from splake.ports import Queue, QueueMessage, StateStore
from splake.runners.aws.runtime import Runtime, open_context

log = get_logger(__name__)

WAITERS = "sfn_waiters"  # StateStore namespace: report id -> Step Functions task token


# --- waiters (report completion → Step Functions) ------------------------------------------------------


def release_waiter(state: StateStore, runtime: Runtime, report_id: str, status: str) -> bool:
    """Send task success to the execution waiting for ``report_id`` (if any). Idempotent."""
    waiter = state.get(WAITERS, report_id, "-")
    if waiter is None:
        return False
    sfn = runtime.client("stepfunctions")
    try:
        sfn.send_task_success(
            taskToken=waiter["task_token"], output=f'{{"report_id": "{report_id}", "status": "{status}"}}'
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
            raise
    state.delete(WAITERS, report_id, "-")
    log_event(log, "report_waiter_released", report_id=report_id, status=status)
    return True


# --- notifications (SQS event source) -------------------------------------------------------------------


@dataclass
class EventBatchQueue:
    """The messages of one Lambda SQS event as a :class:`splake.ports.Queue`: deleting = success; releasing
    = report the message in ``batchItemFailures`` so SQS redelivers it (and redrives it to the DLQ)."""

    messages: list[QueueMessage]
    deleted: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)
    _given: bool = False

    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
        raise FatalError(
            "an SQS event batch is read-only", hint="send to the queue URL with SqsQueue instead"
        )

    def receive(
        self, *, max_messages: int = 10, wait_seconds: float = 0, visibility_timeout: int = 60
    ) -> list[QueueMessage]:
        if self._given:
            return []
        self._given = True
        return list(self.messages)

    def delete(self, receipt: str) -> None:
        self.deleted.add(receipt)

    def release(self, receipt: str) -> None:
        self.released.add(receipt)

    def failures(self) -> list[dict[str, str]]:
        return [{"itemIdentifier": m.message_id} for m in self.messages if m.receipt not in self.deleted]


def handle_notifications(event: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Consume one SQS batch with the library consumer; complete waiting executions for finished reports."""
    from splake.notifications.consumer import Handlers, consume
    from splake.notifications.messages import ReportFinished

    runtime = Runtime.from_env(env)
    batch = EventBatchQueue([message_from_sqs(r) for r in event.get("Records", [])])
    defaults = Handlers.default()

    async def go() -> dict[str, Any]:
        ctx = open_context(runtime)

        async def on_report(c: Any, n: ReportFinished) -> Any:
            outcome = await defaults.report(c, n)
            await asyncio.to_thread(release_waiter, ctx.state, runtime, n.report_id, n.processing_status)
            return outcome

        try:
            queue: Queue = batch
            result = await consume(
                ctx, queue, max_messages=len(batch.messages), handlers=Handlers(on_report, defaults.listing)
            )
        finally:
            await ctx.aclose()
        return {"batchItemFailures": batch.failures(), "result": result.as_dict()}

    return asyncio.run(go())


def notifications(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    configure_logging()
    return handle_notifications(event)
