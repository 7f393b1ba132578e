"""The notifications consumer: queue → parse → dedup → act → record → delete.

``consume(ctx, queue, max_messages=…)`` is the library function both runners use (``splake notifications
consume`` locally, the AWS runner's Lambda/worker). Guarantees:

- **At-least-once, exactly-once effect.** A message is deleted only after its work is durable (ledger
  transition / lake commit) *and* its ``notificationId`` is recorded in the state store namespace
  ``"notifications"``. Redelivered or duplicated notifications are recognised by id and only deleted.
- **Order does not matter.** Report completion goes through the ledger's idempotent ``complete``
  transition; listing notifications trigger a refetch of the listing's current state.
- **Poison messages go to the dead-letter queue.** Malformed messages are never deleted: they are made
  visible again (``release``) so the queue's redrive policy moves them after ``maxReceiveCount``
  receives. When a ``dead_letter`` queue is passed (queues without redrive, e.g. SQLite), a malformed
  message whose receive count reached ``max_receives`` is moved there explicitly.
- **Failures don't block the queue.** A handler error releases that one message for a later retry and
  the consumer goes on with the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from splake.config import Settings
from splake.errors import BadDataError, ConflictError
from splake.logs import get_logger, log_event
from splake.notifications.handlers import handle_listing, handle_listings, handle_report
from splake.notifications.messages import ListingChanged, Notification, ReportFinished, parse_notification
from splake.notifications.outcome import Outcome
from splake.ports import Queue, QueueMessage, StateStore

log = get_logger(__name__)

NAMESPACE = "notifications"


class ConsumerContext(Protocol):
    """What the consumer itself needs; handlers may need more (client, lake) from the same object."""

    @property
    def settings(self) -> Settings: ...

    @property
    def state(self) -> StateStore: ...


Handler = Callable[[Any, Any], Awaitable[Outcome]]
BatchHandler = Callable[[Any, list[Any]], Awaitable[dict[str, Outcome]]]  # notificationId → outcome


@dataclass
class Handlers:
    """What to do per notification kind. Defaults: ledger completion and listing refetch.

    ``listing_batch`` (optional) handles all listings notifications of one receive batch at once (one
    lake commit instead of one per message); when it is None, ``listing`` is called per message."""

    report: Handler
    listing: Handler
    listing_batch: BatchHandler | None = None

    @classmethod
    def default(cls) -> Handlers:
        return cls(report=handle_report, listing=handle_listing, listing_batch=handle_listings)


@dataclass
class ConsumeResult:
    received: int = 0
    processed: int = 0  # acted on, recorded and deleted
    ignored: int = 0  # well-formed but not ours / not actionable: recorded and deleted
    duplicates: int = 0  # notificationId seen before: deleted without acting
    malformed: int = 0  # left for the dead-letter queue
    moved_to_dlq: int = 0  # explicitly moved (queues without redrive)
    failed: int = 0  # handler error: released for retry
    by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "processed": self.processed,
            "ignored": self.ignored,
            "duplicates": self.duplicates,
            "malformed": self.malformed,
            "moved_to_dlq": self.moved_to_dlq,
            "failed": self.failed,
            "by_type": dict(self.by_type),
        }


def seen(state: StateStore, notification_id: str) -> bool:
    return state.get(NAMESPACE, notification_id, "-") is not None


def record(state: StateStore, n: Notification, outcome: str, now: datetime) -> bool:
    """Remember a handled notification; False when another consumer recorded it first."""
    try:
        state.put(
            NAMESPACE,
            n.notification_id,
            "-",
            {
                "type": n.notification_type,
                "outcome": outcome,
                "event_time": n.event_time.isoformat() if n.event_time else None,
                "processed_at": now.isoformat(),
            },
            expect_version=0,
        )
    except ConflictError:
        return False
    return True


async def _handle(ctx: Any, n: Notification, handlers: Handlers) -> Outcome:
    if isinstance(n, ReportFinished):
        return await handlers.report(ctx, n)
    if isinstance(n, ListingChanged):
        return await handlers.listing(ctx, n)
    return "ignored"


async def consume(
    ctx: ConsumerContext,
    queue: Queue,
    max_messages: int = 100,
    *,
    wait_seconds: float = 0,
    visibility_timeout: int = 60,
    dead_letter: Queue | None = None,
    max_receives: int = 5,
    handlers: Handlers | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConsumeResult:
    """Process up to ``max_messages`` messages; stops early when a receive comes back empty."""
    handlers = handlers or Handlers.default()
    result = ConsumeResult()
    while result.received < max_messages:
        batch = min(10, max_messages - result.received)
        messages = await asyncio.to_thread(
            queue.receive,
            max_messages=batch,
            wait_seconds=wait_seconds,
            visibility_timeout=visibility_timeout,
        )
        if not messages:
            break
        result.received += len(messages)
        listings: list[tuple[QueueMessage, ListingChanged]] = []
        for msg in messages:
            n = await _triage(ctx, queue, msg, result, dead_letter, max_receives)
            if n is None:
                continue
            if isinstance(n, ListingChanged) and handlers.listing_batch is not None:
                listings.append((msg, n))
            else:
                await _act(ctx, queue, [(msg, n)], handlers, result, clock)
        if listings:
            await _act(ctx, queue, listings, handlers, result, clock)
    log_event(log, "notifications_consumed", **result.as_dict())
    return result


async def _triage(
    ctx: ConsumerContext,
    queue: Queue,
    msg: QueueMessage,
    result: ConsumeResult,
    dead_letter: Queue | None,
    max_receives: int,
) -> Notification | None:
    """Parse and dedup one message; malformed ones are left for the DLQ, duplicates deleted. Returns the
    notification when there is work to do."""
    try:
        n = parse_notification(msg.body)
    except BadDataError as exc:
        result.malformed += 1
        if dead_letter is not None and msg.receive_count >= max_receives:
            await asyncio.to_thread(dead_letter.send, msg.body, attributes={"error": exc.message[:200]})
            await asyncio.to_thread(queue.delete, msg.receipt)
            result.moved_to_dlq += 1
            log_event(log, "notification_moved_to_dlq", message_id=msg.message_id, error=exc.message)
        else:
            await asyncio.to_thread(queue.release, msg.receipt)
            log_event(
                log,
                "notification_malformed",
                message_id=msg.message_id,
                receive_count=msg.receive_count,
                error=exc.message,
            )
        return None
    result.by_type[n.notification_type] = result.by_type.get(n.notification_type, 0) + 1
    if await asyncio.to_thread(seen, ctx.state, n.notification_id):
        result.duplicates += 1
        await asyncio.to_thread(queue.delete, msg.receipt)
        log_event(log, "notification_duplicate", notification_id=n.notification_id, type=n.notification_type)
        return None
    return n


async def _act(
    ctx: ConsumerContext,
    queue: Queue,
    group: list[tuple[QueueMessage, Any]],
    handlers: Handlers,
    result: ConsumeResult,
    clock: Callable[[], datetime],
) -> None:
    """Handle one message, or a batch of listings notifications, then record and delete (in that order:
    a crash in between only causes a redelivery that the record turns into a duplicate)."""
    first: dict[str, tuple[QueueMessage, Any]] = {}
    repeats: list[QueueMessage] = []
    for msg, n in group:  # the same notification twice in one receive batch
        if n.notification_id in first:
            repeats.append(msg)
        else:
            first[n.notification_id] = (msg, n)
    items = list(first.values())
    try:
        if len(items) > 1 or (isinstance(items[0][1], ListingChanged) and handlers.listing_batch is not None):
            assert handlers.listing_batch is not None
            outcomes = await handlers.listing_batch(ctx, [n for _m, n in items])
        else:
            outcomes = {items[0][1].notification_id: await _handle(ctx, items[0][1], handlers)}
    except Exception as exc:  # one bad message must not stop the queue
        result.failed += len(group)
        for msg, n in group:
            await asyncio.to_thread(queue.release, msg.receipt)
            log_event(
                log,
                "notification_failed",
                notification_id=n.notification_id,
                type=n.notification_type,
                error=str(exc),
            )
        return
    for msg, n in items:
        outcome = outcomes.get(n.notification_id, "done")
        await asyncio.to_thread(record, ctx.state, n, outcome, clock())
        await asyncio.to_thread(queue.delete, msg.receipt)
        if outcome == "ignored":
            result.ignored += 1
        else:
            result.processed += 1
        log_event(
            log,
            "notification_processed",
            notification_id=n.notification_id,
            type=n.notification_type,
            outcome=outcome,
        )
    for msg in repeats:
        result.duplicates += 1
        await asyncio.to_thread(queue.delete, msg.receipt)
