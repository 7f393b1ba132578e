"""Token buckets per (client_id, selling partner id or "grantless", operationId), from the usage plans.

Pure arithmetic on a monotonic clock value passed in; no I/O.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from splake.spapi.usage_plans import operations

# Operations without a modelled usage plan (sandbox-only ones) get the sandbox's own documented plan.
DEFAULT_PLAN = (5.0, 15)


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second actually enforced (after factor and time_scale)
    burst: int
    header_rate: float  # value for x-amzn-RateLimit-Limit


def effective_limit(operation_id: str, factor: float, time_scale: float) -> Limit | None:
    """The limit enforced for an operation, or None when limits are off (``time_scale == 0``)."""
    op = operations().get(operation_id)
    rate, burst = (op.rate, op.burst) if op else DEFAULT_PLAN
    rate *= factor
    burst = max(1, math.ceil(burst * factor))
    if time_scale <= 0:
        return None
    enforced = rate / time_scale
    return Limit(rate=enforced, burst=burst, header_rate=enforced)


def header_rate(operation_id: str, factor: float, time_scale: float) -> float:
    lim = effective_limit(operation_id, factor, time_scale)
    if lim is not None:
        return lim.header_rate
    op = operations().get(operation_id)
    return (op.rate if op else DEFAULT_PLAN[0]) * factor


def format_rate(rate: float) -> str:
    text = f"{rate:.4f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Thread-safe token buckets. ``try_acquire`` returns True when the request may pass."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._lock = threading.Lock()

    def try_acquire(self, key: tuple[str, str, str], limit: Limit | None, now: float) -> bool:
        if limit is None:
            return True
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = Bucket(tokens=float(limit.burst), updated=now)
                self._buckets[key] = b
            b.tokens = min(float(limit.burst), b.tokens + (now - b.updated) * limit.rate)
            b.updated = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return True
            return False

    def refund(self, key: tuple[str, str, str], limit: Limit | None) -> None:
        """Give back the token ``try_acquire`` just took (the request was answered without using it)."""
        if limit is None:
            return
        with self._lock:
            b = self._buckets.get(key)
            if b is not None:
                b.tokens = min(float(limit.burst), b.tokens + 1.0)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
