"""Client-side rate limiting: one adaptive token bucket per (selling partner, operation).

SP-API usage plans are token buckets per application + selling partner + operation. We model each one:

- seeded from the operation's default usage plan (rate, burst) in the official models;
- ``observe()``: a response carried ``x-amzn-RateLimit-Limit`` (the live rate, best effort; sent on
  2xx/400/404, never on 429) → adopt it as the ceiling, and scale the burst by the same ratio when the
  live rate is lower than the modelled one (the burst is never advertised);
- ``throttled()``: a 429 (never carries the rate header, so it may be spurious: Amazon throttles under the
  limit now and then) → *suspect*: back off once (``throttle_backoff_seconds``, at most half a refill
  interval, so an empty server bucket answers the probe with another 429) and send one request. If a
  request sent after the 429 succeeds, the 429 was spurious: the tokens we had are restored (queued
  waiters re-reserve at once), so one spurious 429 costs about one backoff, not the burst. If it is
  throttled too (or another 429 follows a forgiven one within the window), the server's bucket really is
  empty: drain ours (the next slot is one refill interval away). Repeated 429s within a short window cut
  the rate multiplicatively; once 429s stop, the rate grows back slowly (additive increase per second,
  AIMD).
- a small safety factor keeps us just under the limit so clock skew and float rounding do not cost 429s;
- the first request of a bucket is a probe: the others wait (briefly) until its response told us the
  live limit, so a lowered limit does not cost a whole burst of 429s.

:class:`AdaptiveBucket` is the pure math (clock passed in); :class:`LocalRateLimiter` is the thin async
layer that sleeps. Requests *reserve* a token (the count may go negative = a queue of reservations) and
sleep until their reservation is covered, so waiters are served in order without polling.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from splake.spapi.usage_plans import operations

GRANTLESS = "grantless"

# (bucket, ticket) pairs of the requests the current task was last allowed to send, per bucket (a call may
# mint an RDT, itself a call, between its slot and its response): observe()/throttled() run in the same task
# right after the response, so they know which request answered without a protocol change. Immutable
# tuples: child tasks copy the context and must not share a mutable object with their parent.
_TICKETS: contextvars.ContextVar[tuple[tuple[int, int], ...]] = contextvars.ContextVar(
    "ratelimit_tickets", default=()
)


@runtime_checkable
class RateLimiter(Protocol):
    """``key`` = selling_partner_id (or ``"grantless"``); ``op`` = operationId."""

    async def acquire(self, key: str, op: str) -> None: ...

    def observe(self, key: str, op: str, header_value: str | None) -> None: ...

    def throttled(self, key: str, op: str) -> None: ...


@dataclass(frozen=True)
class AdaptiveTuning:
    safety: float = 0.95  # send at most this fraction of the believed rate
    decrease_factor: float = 0.7  # multiplicative decrease after repeated 429s
    throttles_to_decrease: int = 2  # this many 429s within the window trigger a decrease
    window_tokens: float = 5.0  # the window is the time for this many tokens (at least 1 s)
    recover_fraction_per_second: float = 0.02  # additive increase: fraction of the ceiling per second
    min_rate_fraction: float = 0.02  # never go below this fraction of the ceiling
    header_tolerance: float = 0.01  # relative change of the header value that counts as "changed"
    # never spend the last token of the server's burst: it absorbs jitter in request arrival times
    headroom_tokens: float = 1.0
    # ... but only while a token refills within this many seconds. For operations the server confirmed
    # (rate header) to be slow (createReport, getReportDocument: one token a minute) the server's bucket
    # starts full and arrival jitter is negligible against the refill time, while a token held back
    # would cost the whole run a minute. Until the header confirms it, the headroom stays.
    headroom_max_seconds: float = 2.0
    # after a 429 without confirmation, the next request (the probe) waits this long, capped at this
    # fraction of a refill interval
    throttle_backoff_seconds: float = 1.0
    probe_interval_fraction: float = 0.5


def parse_rate_header(value: str | None) -> float | None:
    """``x-amzn-RateLimit-Limit`` → requests per second (None if absent or not a positive number)."""
    if value is None:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(rate) or rate <= 0:
        return None
    return rate


@dataclass
class AdaptiveBucket:
    """Pure token-bucket state for one (selling partner, operation). All methods take ``now`` (seconds)."""

    modelled_rate: float
    modelled_burst: int
    now: float
    tuning: AdaptiveTuning = field(default_factory=AdaptiveTuning)
    rate: float = field(init=False)  # the rate we currently pace at (≤ ceiling)
    ceiling: float = field(init=False)  # best knowledge of the real limit (header, else the model)
    burst: float = field(init=False)
    tokens: float = field(init=False)  # negative = reservations queued
    updated: float = field(init=False)
    header_seen: bool = field(init=False, default=False)
    total_throttles: int = field(init=False, default=0)
    decreases: int = field(init=False, default=0)
    # bumped whenever queued reservations are forgiven (429 / lower limit): waiters re-reserve on waking
    epoch: int = field(init=False, default=0)
    _recent: list[float] = field(init=False, default_factory=list)
    _last_throttle: float = field(init=False, default=-math.inf)
    _last_growth: float = field(init=False)
    # requests handed out to be sent (the async layer calls mark_sent): tickets tell "sent after the 429"
    sent: int = field(init=False, default=0)
    # an unconfirmed 429 is pending: the tokens we had then, when it came, and ``sent`` at that moment
    suspect: bool = field(init=False, default=False)
    suspect_tokens: float = field(init=False, default=0.0)
    suspect_at: float = field(init=False, default=0.0)
    suspect_sent: int = field(init=False, default=0)
    forgiven_at: float = field(init=False, default=-math.inf)  # when a 429 was last judged spurious

    def __post_init__(self) -> None:
        self.rate = self.ceiling = float(self.modelled_rate)
        self.burst = float(max(1, self.modelled_burst))
        self.tokens = self.capacity
        self.updated = self._last_growth = self.now

    @property
    def pace(self) -> float:
        return self.rate * self.tuning.safety

    @property
    def capacity(self) -> float:
        """How many tokens we let accumulate: the believed burst minus the headroom (at least 1); the full
        burst for operations confirmed slow, where a held-back token costs more than it protects."""
        if self.header_seen and 1.0 / self.ceiling > self.tuning.headroom_max_seconds:
            return self.burst
        return max(1.0, self.burst - self.tuning.headroom_tokens)

    @property
    def window(self) -> float:
        return max(1.0, self.tuning.window_tokens / self.ceiling)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.pace)
            self.updated = now

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens

    def reserve(self, now: float) -> float:
        """Take one token; return how many seconds the caller must wait before sending (0 = now)."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.pace

    def mark_sent(self) -> int:
        """A reservation was honoured and its request goes out now; returns its ticket (for
        :meth:`observe` / :meth:`throttled`: was the request sent after a 429 arrived?)."""
        self.sent += 1
        return self.sent

    def _after_suspect(self, ticket: int | None) -> bool:
        # no ticket (a caller that does not track them): count the response as fresh evidence
        return ticket is None or ticket > self.suspect_sent

    def observe(self, now: float, header_rate: float | None, ticket: int | None = None) -> None:
        """A non-429 response arrived (``header_rate`` = parsed ``x-amzn-RateLimit-Limit`` or None;
        ``ticket`` from :meth:`mark_sent` for the request it answers)."""
        self._refill(now)
        t = self.tuning
        if self.suspect and self._after_suspect(ticket):
            self._forgive_suspect(now)
        if header_rate is not None:
            first = not self.header_seen
            held_back = self.capacity
            changed = abs(header_rate - self.ceiling) > t.header_tolerance * self.ceiling
            if changed or first:
                self._set_ceiling(header_rate)
            self.header_seen = True
            if first and self.capacity > held_back:
                # the server confirmed a slow rate: the headroom token held back is ours to spend
                self.tokens += self.capacity - held_back
        # additive increase toward the ceiling, once no 429 was seen for two windows
        quiet_since = self._last_throttle + 2 * self.window
        if self.rate < self.ceiling and now > quiet_since:
            since = max(self._last_growth, quiet_since)
            grow = t.recover_fraction_per_second * self.ceiling * max(0.0, now - since)
            self.rate = min(self.ceiling, self.rate + grow)
        self._last_growth = now

    def _set_ceiling(self, header_rate: float) -> None:
        ratio = min(1.0, header_rate / self.modelled_rate)
        new_burst = max(1.0, math.floor(self.modelled_burst * ratio))
        if new_burst < self.burst:
            # keep the count of tokens already used: both buckets started full
            self.tokens -= self.burst - new_burst
        self.burst = new_burst
        self.tokens = min(self.tokens, self.capacity)
        previous = self.ceiling
        self.ceiling = header_rate
        # keep a throttle-induced reduction (relative to the old ceiling), else adopt the new rate
        new_rate = header_rate * min(1.0, self.rate / previous)
        if new_rate < self.rate and self.tokens < 0:
            # queued reservations were timed for the faster rate: forgive them, waiters re-reserve
            self.tokens = 0.0
            self.epoch += 1
        self.rate = new_rate

    def _forgive_suspect(self, now: float) -> None:
        """A request sent after the pending 429 succeeded: that 429 was spurious (the server's bucket was
        not empty). Go back to the tokens we had (refilled since), minus the requests sent since the 429;
        queued waiters re-reserve (epoch) against the restored count."""
        self.suspect = False
        self.forgiven_at = now
        self._recent = [x for x in self._recent if x != self.suspect_at]
        restored = min(self.capacity, self.suspect_tokens + (now - self.suspect_at) * self.pace)
        restored -= self.sent - self.suspect_sent
        if restored > self.tokens:
            self.tokens = restored
            self.epoch += 1

    def throttled(self, now: float, ticket: int | None = None) -> None:
        """A 429 arrived (``ticket`` from :meth:`mark_sent` for the throttled request). The first one is
        only a suspicion: back off once and let one request find out. A 429 for a request sent after an
        unconfirmed one confirms the server's bucket is empty: drain ours. Repeated 429s cut the rate."""
        self._refill(now)
        t = self.tuning
        self.total_throttles += 1
        self._last_throttle = now
        # waiters queued on the old schedule re-reserve when they wake (epoch): re-spaced at the new level
        if not self.suspect and now - self.forgiven_at <= self.window:
            # another 429 soon after one was forgiven: our count is off (the probe only got lucky), the
            # server's bucket is empty, and the forgiven 429 counts again toward a rate cut
            self.tokens = 0.0
            self.epoch += 1
            self._recent.append(self.suspect_at)
            self.forgiven_at = -math.inf
        elif not self.suspect:
            # the throttled request did not use a server token: it is ours again (if we had it)
            self.suspect = True
            self.suspect_tokens = min(self.capacity, max(0.0, self.tokens) + 1.0)
            self.suspect_at = now
            self.suspect_sent = self.sent
            # shorter than the server's refill interval: if its bucket really is empty the probe is throttled
            # too (confirmed); waiting a whole interval would let the probe succeed either way
            backoff = min(t.throttle_backoff_seconds, t.probe_interval_fraction / self.pace)
            # the next reservation waits ``backoff``: tokens after it = -backoff * pace
            self.tokens = 1.0 - backoff * self.pace
            self.epoch += 1
        elif self._after_suspect(ticket):
            # confirmed: the server's bucket is empty; its next token is one refill interval away
            self.suspect = False
            self.tokens = 0.0
            self.epoch += 1
        # else: sent before the pending 429 arrived, so it tells nothing new (the backoff already applies)
        self._recent = [x for x in self._recent if now - x <= self.window] + [now]
        if len(self._recent) >= t.throttles_to_decrease:
            self.rate = max(self.ceiling * t.min_rate_fraction, self.rate * t.decrease_factor)
            self.decreases += 1
            self._recent = []

    def snapshot(self) -> dict[str, float | int | bool]:
        return {
            "rate": round(self.rate, 4),
            "ceiling": self.ceiling,
            "burst": self.burst,
            "tokens": round(self.tokens, 3),
            "throttles": self.total_throttles,
            "decreases": self.decreases,
            "header_seen": self.header_seen,
            "suspect": self.suspect,
        }


def default_plan(op: str) -> tuple[float, int]:
    """The operation's default usage plan (rate r/s, burst) from the official models; 1/1 if unknown."""
    spec = operations().get(op)
    return (spec.rate, spec.burst) if spec else (1.0, 1)


class LocalRateLimiter:
    """In-process :class:`RateLimiter` (shared by every task of one process)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        plan: Callable[[str], tuple[float, int]] = default_plan,
        tuning: AdaptiveTuning | None = None,
        probe_timeout: float = 5.0,
        recheck_seconds: float = 1.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._plan = plan
        self._tuning = tuning or AdaptiveTuning()
        self._probe_timeout = probe_timeout
        self._recheck = recheck_seconds  # sleeping waiters notice a reset schedule at least this often
        self._buckets: dict[tuple[str, str], AdaptiveBucket] = {}
        self._learned: dict[tuple[str, str], asyncio.Event] = {}
        self._probes: dict[tuple[str, str], asyncio.Task[Any] | None] = {}

    def bucket(self, key: str, op: str) -> AdaptiveBucket:
        b = self._buckets.get((key, op))
        if b is None:
            rate, burst = self._plan(op)
            b = AdaptiveBucket(rate, burst, self._clock(), self._tuning)
            self._buckets[(key, op)] = b
        return b

    async def acquire(self, key: str, op: str) -> None:
        learned = self._learned.get((key, op))
        if learned is None:
            # first request of this bucket: it goes alone and tells us the live limit
            self._learned[(key, op)] = asyncio.Event()
            self._probes[(key, op)] = asyncio.current_task()
        elif not learned.is_set() and self._probes.get((key, op)) is not asyncio.current_task():
            # (the probe itself, retrying after a connection error, must not wait for its own answer)
            try:
                await asyncio.wait_for(learned.wait(), self._probe_timeout)
            except TimeoutError:
                learned.set()  # the probe never reported; don't wait for it again
        bucket = self.bucket(key, op)
        while True:
            epoch = bucket.epoch
            now = self._clock()
            delay = bucket.reserve(now)
            due = now + delay
            while delay > 0 and bucket.epoch == epoch:
                step = min(delay, self._recheck)
                await self._sleep(step)
                # (what we slept counts even if the clock did not move: an injected clock may be frozen)
                delay = min(delay - step, due - self._clock())
            if bucket.epoch == epoch:
                held = tuple(p for p in _TICKETS.get() if p[0] != id(bucket))[-3:]
                _TICKETS.set((*held, (id(bucket), bucket.mark_sent())))
                return
            # the schedule was reset while we waited (a 429, a lower limit, a spurious 429 forgiven):
            # take a fresh slot

    def _ticket(self, bucket: AdaptiveBucket) -> int | None:
        return next((t for b, t in _TICKETS.get() if b == id(bucket)), None)

    def _learn(self, key: str, op: str) -> None:
        event = self._learned.get((key, op))
        if event is None:
            event = self._learned[(key, op)] = asyncio.Event()
        event.set()

    def observe(self, key: str, op: str, header_value: str | None) -> None:
        b = self.bucket(key, op)
        b.observe(self._clock(), parse_rate_header(header_value), self._ticket(b))
        self._learn(key, op)

    def throttled(self, key: str, op: str) -> None:
        b = self.bucket(key, op)
        b.throttled(self._clock(), self._ticket(b))
        self._learn(key, op)

    def snapshot(self) -> dict[str, dict[str, float | int | bool]]:
        return {f"{k}|{op}": b.snapshot() for (k, op), b in sorted(self._buckets.items())}


class NoRateLimiter:
    """A :class:`RateLimiter` that never waits (for a sandbox running without limits, or baselines)."""

    async def acquire(self, key: str, op: str) -> None:
        return None

    def observe(self, key: str, op: str, header_value: str | None) -> None:
        return None

    def throttled(self, key: str, op: str) -> None:
        return None
