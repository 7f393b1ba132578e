"""Retry decisions: status classification, full-jitter backoff bounds, Retry-After."""

from __future__ import annotations

import random

from splake.spapi.retry import (
    RetryPolicy,
    backoff_delay,
    classify_status,
    parse_retry_after,
    retry_delay,
    should_retry,
)


def test_classify() -> None:
    assert classify_status(200) == classify_status(202) == "ok"
    assert classify_status(429) == "throttled"
    for s in (500, 502, 503, 504, 599):
        assert classify_status(s) == "server_error"
    assert classify_status(403) == classify_status(401) == "unauthorized"
    for s in (400, 404, 409, 413, 415):
        assert classify_status(s) == "client_error"


def test_full_jitter_bounds_and_cap() -> None:
    p = RetryPolicy(max_retries=6, base_seconds=0.5, cap_seconds=8.0)
    assert backoff_delay(0, p, lambda: 1.0) == 0.5
    assert backoff_delay(3, p, lambda: 1.0) == 4.0
    assert backoff_delay(10, p, lambda: 1.0) == 8.0  # capped
    assert backoff_delay(5, p, lambda: 0.0) == 0.0
    rng = random.Random(1)
    samples = [backoff_delay(2, p, rng.random) for _ in range(2000)]
    assert all(0 <= s <= 2.0 for s in samples)
    mean = sum(samples) / len(samples)
    assert 0.9 < mean < 1.1  # uniform on [0, 2]: spread out, not clustered at the ceiling


def test_retry_after_is_a_lower_bound_but_capped() -> None:
    p = RetryPolicy(base_seconds=0.5, cap_seconds=10.0)
    assert retry_delay(0, p, lambda: 0.0, retry_after=3.0) == 3.0
    assert retry_delay(0, p, lambda: 0.0, retry_after=999.0) == 10.0
    assert retry_delay(0, p, lambda: 1.0, retry_after=None) == 0.5


def test_parse_retry_after() -> None:
    assert parse_retry_after("2", 0.0) == 2.0
    assert parse_retry_after(None, 0.0) is None
    assert parse_retry_after("garbage", 0.0) is None
    # HTTP date form: 'Wed, 21 Oct 2015 07:28:00 GMT' = 1445412480
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0


def test_should_retry_counts_retries() -> None:
    p = RetryPolicy(max_retries=2)
    assert [should_retry(a, p) for a in range(4)] == [True, True, False, False]
