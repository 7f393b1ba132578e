"""A rate limiter shared by every Lambda: one token bucket per (selling partner, operation) in DynamoDB.

Implements :class:`splake.spapi.ratelimit.RateLimiter` with the same math as the in-process limiter
(:class:`splake.spapi.ratelimit.AdaptiveBucket`: reservations, header-adaptive ceiling, AIMD on 429s), but
the bucket state lives in one DynamoDB item per (seller, operation) and every change is an optimistic
conditional write on its version (``ConditionExpression: v = :seen``). Two workers can never spend the same
token: the loser of a race reloads and reserves again. Times are wall-clock seconds (``time.time``), shared
by all workers.

Item: ``pk = "_ratelimit#<seller>"``, ``sk = <operationId>`` in the state table.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.logs import get_logger, log_event
from splake.spapi.ratelimit import AdaptiveBucket, AdaptiveTuning, default_plan, parse_rate_header

log = get_logger(__name__)

_SKIP = {"now", "tuning"}  # constructor-only / configuration, not state

# The ticket (the bucket's ``sent`` count, taken in the same conditional write as the reservation) of the
# last slot each task was granted per (seller, operation): observe()/throttled() run in the same task
# right after the response, so the shared bucket knows whether the request was reserved after a pending
# 429 (evidence about it) or before (it tells nothing: it must not forgive a real 429). Immutable tuples:
# child tasks copy the context.
_TICKETS: contextvars.ContextVar[tuple[tuple[tuple[str, str], int], ...]] = contextvars.ContextVar(
    "dynamo_ratelimit_tickets", default=()
)


def _state_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(AdaptiveBucket) if f.name not in _SKIP]


@dataclass(frozen=True)
class StoredBucket:
    """A bucket as loaded from DynamoDB: the math object, its version, and the probe deadline."""

    bucket: AdaptiveBucket
    version: int  # 0 = not stored yet
    probe_until: float


def bucket_to_item(b: AdaptiveBucket, probe_until: float) -> dict[str, Any]:
    """The DynamoDB attributes of a bucket: its whole state as JSON (``state``) + the probe deadline."""
    state = {name: getattr(b, name) for name in _state_fields()}
    return {
        "state": {"S": json.dumps(state, sort_keys=True)},
        "header_seen": {"BOOL": bool(b.header_seen)},
        "probe_until": {"N": repr(float(probe_until))},
    }


def bucket_from_item(raw: dict[str, Any], tuning: AdaptiveTuning) -> tuple[AdaptiveBucket, float]:
    state: dict[str, Any] = json.loads(raw["state"]["S"])
    b = AdaptiveBucket(float(state["modelled_rate"]), int(state["modelled_burst"]), 0.0, tuning)
    for name in _state_fields():
        if name in state:
            setattr(b, name, state[name])
    return b, float(raw["probe_until"]["N"])


class DynamoRateLimiter:
    """:class:`splake.spapi.ratelimit.RateLimiter` whose buckets are shared through a DynamoDB table."""

    def __init__(
        self,
        table: str,
        endpoint: AwsEndpoint | None = None,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        plan: Callable[[str], tuple[float, int]] = default_plan,
        tuning: AdaptiveTuning | None = None,
        probe_timeout: float = 5.0,
        probe_poll: float = 0.05,
    ) -> None:
        self.table = table
        self._ddb = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("dynamodb")
        self._clock = clock
        self._sleep = sleep
        self._plan = plan
        self._tuning = tuning or AdaptiveTuning()
        self._probe_timeout = probe_timeout
        self._probe_poll = probe_poll
        self._last: dict[
            tuple[str, str], AdaptiveBucket
        ] = {}  # what this worker last saw (skip no-op writes)
        self.conflicts = 0  # lost optimistic races (for tests and metrics)

    @staticmethod
    def _key(key: str, op: str) -> dict[str, Any]:
        return {"pk": {"S": f"_ratelimit#{key}"}, "sk": {"S": op}}

    def _load(self, key: str, op: str, now: float) -> StoredBucket:
        raw = self._ddb.get_item(TableName=self.table, Key=self._key(key, op), ConsistentRead=True).get(
            "Item"
        )
        if raw is None:
            rate, burst = self._plan(op)
            return StoredBucket(AdaptiveBucket(rate, burst, now, self._tuning), 0, now + self._probe_timeout)
        bucket, probe_until = bucket_from_item(raw, self._tuning)
        return StoredBucket(bucket, int(raw["v"]["N"]), probe_until)

    def _store(self, key: str, op: str, stored: StoredBucket) -> bool:
        """Write the changed bucket if nobody else changed it since we loaded it. False = lost the race."""
        item = {**self._key(key, op), **bucket_to_item(stored.bucket, stored.probe_until)}
        item["v"] = {"N": str(stored.version + 1)}
        cond: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if stored.version == 0
            else {
                "ConditionExpression": "v = :seen",
                "ExpressionAttributeValues": {":seen": {"N": str(stored.version)}},
            }
        )
        try:
            self._ddb.put_item(TableName=self.table, Item=item, **cond)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                self.conflicts += 1
                return False
            raise
        self._last[(key, op)] = stored.bucket
        return True

    def _update(self, key: str, op: str, change: Callable[[StoredBucket, float], float | None]) -> float:
        """Load → ``change`` (mutates the bucket, returns a delay, or None to skip the write) → store; retry
        on a lost race. Returns the delay ``change`` decided on."""
        while True:
            now = self._clock()
            stored = self._load(key, op, now)
            delay = change(stored, now)
            if delay is None or self._store(key, op, stored):
                return delay or 0.0
            time.sleep(random.uniform(0, 0.01))

    def _reserve(self, key: str, op: str) -> tuple[float, int] | None:
        """Reserve a token; (the seconds to wait, the request's ticket), or None when a probe is still in
        flight (try again)."""
        now = self._clock()
        stored = self._load(key, op, now)
        b = stored.bucket
        if stored.version > 0 and not b.header_seen and now < stored.probe_until:
            return None  # the first request of this bucket has not reported the live limit yet
        delay = b.reserve(now)
        ticket = b.mark_sent()
        if self._store(key, op, stored):
            return delay, ticket
        time.sleep(random.uniform(0, 0.01))
        return self._reserve(key, op)

    async def acquire(self, key: str, op: str) -> None:
        while True:
            granted = await asyncio.to_thread(self._reserve, key, op)
            if granted is not None:
                break
            await self._sleep(self._probe_poll)
        delay, ticket = granted
        held = tuple(p for p in _TICKETS.get() if p[0] != (key, op))[-3:]
        _TICKETS.set((*held, ((key, op), ticket)))
        if delay > 0:
            await self._sleep(delay)

    @staticmethod
    def _ticket(key: str, op: str) -> int | None:
        return next((t for k, t in _TICKETS.get() if k == (key, op)), None)

    def observe(self, key: str, op: str, header_value: str | None) -> None:
        header = parse_rate_header(header_value)
        last = self._last.get((key, op))
        if (
            last is not None
            and last.header_seen
            and not last.suspect
            and last.rate >= last.ceiling
            and (header is None or abs(header - last.ceiling) <= self._tuning.header_tolerance * last.ceiling)
        ):
            return  # nothing this response could change

        ticket = self._ticket(key, op)

        def change(stored: StoredBucket, now: float) -> float:
            stored.bucket.observe(now, header, ticket)
            return 0.0

        self._update(key, op, change)

    def throttled(self, key: str, op: str) -> None:
        ticket = self._ticket(key, op)

        def change(stored: StoredBucket, now: float) -> float:
            stored.bucket.throttled(now, ticket)
            return 0.0

        self._update(key, op, change)
        log_event(log, "rate_limit_throttled", seller=key, operation=op)

    def snapshot(self, key: str, op: str) -> dict[str, float | int | bool]:
        return self._load(key, op, self._clock()).bucket.snapshot()
