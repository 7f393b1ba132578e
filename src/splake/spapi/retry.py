"""Retry decisions (pure): which outcomes are retried, and how long to wait (full-jitter backoff).

Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the n-th retry waits a uniformly
random time in ``[0, min(cap, base * 2**n)]``. A ``Retry-After`` header, when present, is a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

Outcome = Literal["ok", "throttled", "server_error", "unauthorized", "client_error"]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0


def classify_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "throttled"
    if status in RETRYABLE_STATUSES or status >= 500:
        return "server_error"
    if status in (401, 403):
        return "unauthorized"
    return "client_error"


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): full jitter, capped."""
    ceiling = min(policy.cap_seconds, policy.base_seconds * float(2 ** max(0, attempt)))
    jitter: float = max(0.0, min(1.0, float(rand())))
    return jitter * ceiling


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, float(parsedate_to_datetime(value).timestamp()) - now_epoch)
    except (TypeError, ValueError):
        return None


def retry_delay(
    attempt: int,
    policy: RetryPolicy,
    rand: Callable[[], float],
    retry_after: float | None = None,
) -> float:
    delay = backoff_delay(attempt, policy, rand)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.cap_seconds))
    return delay


def should_retry(attempt: int, policy: RetryPolicy) -> bool:
    """``attempt`` retries have been made so far; may we make another?"""
    return attempt < policy.max_retries
