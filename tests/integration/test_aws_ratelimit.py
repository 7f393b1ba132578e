"""The DynamoDB token bucket keeps 20 concurrent workers (separate limiter instances and DynamoDB clients,
like separate Lambdas) under one seller's real limit on the sandbox: zero 429s."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config
from splake.runners.aws.ratelimit import DynamoRateLimiter, bucket_from_item, bucket_to_item
from splake.spapi.client import SpApiClient
from splake.spapi.ratelimit import AdaptiveBucket, AdaptiveTuning
from splake.spapi.usage_plans import operation
from tests.support.aws_fixtures import MotoServer, create_state_table, unique

OP = "getMarketplaceParticipations"  # modelled 0.016 r/s, burst 15
TIME_SCALE = 0.004  # sandbox enforces 0.016 / 0.004 = 4 r/s, burst 15
WORKERS = 20
CALLS_EACH = 2


def _settings(sb: Any) -> Settings:
    acct = sb.world.account("seller-na")
    return parse_config(
        {
            "lwa": {"client_id": sb.world.client_id, "token_url": sb.url + "/auth/o2/token"},
            "spapi": {"endpoint_override": sb.url, "max_retries": 0},
            "accounts": [
                {
                    "id": "seller-na",
                    "region": "NA",
                    "selling_partner_id": acct.selling_partner_id,
                    "marketplaces": list(acct.marketplace_ids),
                }
            ],
        }
    )


def test_bucket_item_round_trip() -> None:
    b = AdaptiveBucket(2.0, 15, 100.0)
    b.reserve(100.5)
    b.observe(101.0, 1.5)
    b.throttled(101.2)
    back, probe = bucket_from_item(bucket_to_item(b, 123.0), AdaptiveTuning())
    assert probe == 123.0
    assert back.snapshot() == b.snapshot()
    assert (back.updated, back.modelled_rate, back.modelled_burst) == (b.updated, 2.0, 15)
    # the restored bucket behaves exactly like the original from here on
    assert back.reserve(102.0) == b.reserve(102.0)
    back.throttled(102.1)
    b.throttled(102.1)
    assert back.snapshot() == b.snapshot()


def run_workers(
    sb: Any, moto: MotoServer, tmp_path: Path, calls_each: int, plan: Any = None
) -> dict[str, Any]:
    """WORKERS threads, each with its own event loop, SP-API client, limiter and DynamoDB client (like
    separate Lambdas), all calling OP for seller-na through one DynamoDB table."""
    table = create_state_table(moto, unique("splake-rl"))
    settings = _settings(sb)
    secrets = LocalSecretStore(tmp_path / "secrets")
    secrets.put(settings.lwa.client_secret_ref, sb.world.client_secret)
    secrets.put(settings.accounts[0].secret_ref, sb.world.account("seller-na").refresh_token)
    statuses: list[int] = []
    errors: list[BaseException] = []
    conflicts: list[int] = []
    lock = threading.Lock()

    async def worker() -> None:
        kw = {"plan": plan} if plan is not None else {}
        limiter = DynamoRateLimiter(table, moto.endpoint, **kw)
        client = SpApiClient(settings, secrets, limiter=limiter)
        try:
            for _ in range(calls_each):
                resp = await client.call(settings.accounts[0], OP)
                with lock:
                    statuses.append(resp.status)
        finally:
            await client.aclose()
            conflicts.append(limiter.conflicts)

    def run() -> None:
        try:
            asyncio.run(worker())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return {
        "elapsed": time.monotonic() - start,
        "statuses": statuses,
        "errors": errors,
        "conflicts": sum(conflicts),
        "table": table,
    }


def test_twenty_workers_share_one_bucket_without_429(
    sandbox_factory: Any, moto_serial_server: MotoServer, tmp_path: Path
) -> None:
    # Limiters start from the modelled plan (0.016 r/s); the first response's header tells the live rate.
    # Each worker's first call fetches an LWA token, here a slow one (3 s, 12 refill intervals: a loaded
    # machine, as in the full suite where this test got 429s). The client fetched it between its limiter
    # slot and its request, so requests left late, bunched, beyond the server's burst: 9 of 40 got 429.
    sb = sandbox_factory(time_scale=TIME_SCALE, lwa_latency_seconds=3.0)
    res = run_workers(sb, moto_serial_server, tmp_path, CALLS_EACH)
    seller = sb.world.account("seller-na").selling_partner_id
    assert not res["errors"], res["errors"][0]
    assert res["statuses"] == [200] * (WORKERS * CALLS_EACH)
    assert sb.stats.throttled_for(OP, seller) == 0
    assert sb.stats.requests_for(OP, seller) == WORKERS * CALLS_EACH
    # the bucket was really shared: 40 calls at 4 r/s, burst 15, cannot finish faster than (40-15)/4 s
    live_rate = operation(OP).rate / TIME_SCALE
    assert res["elapsed"] >= (WORKERS * CALLS_EACH - 15) / live_rate * 0.9
    assert res["conflicts"] > 0  # workers really raced on the item (and the conditional write caught it)
    assert sb.stats.token_grants_by_subject[seller] == WORKERS  # each worker fetched its own (slow) token
    snap = DynamoRateLimiter(res["table"], moto_serial_server.endpoint).snapshot(seller, OP)
    assert snap["header_seen"] is True
    assert abs(float(snap["ceiling"]) - live_rate) < 1e-6


def test_live_limit_below_the_model_is_learned_before_the_burst(
    sandbox_factory: Any, moto_serial_server: MotoServer, tmp_path: Path
) -> None:
    """The seller's real limit is half the documented one (rate and burst): the first call's header lowers
    the shared bucket before the other 19 workers send anything, so still no 429."""
    scale = 0.001
    sb = sandbox_factory(time_scale=scale, rate_limit_factor=0.5)  # live: 8 r/s, burst 8
    spec = operation(OP)
    res = run_workers(sb, moto_serial_server, tmp_path, 2, plan=lambda op: (spec.rate / scale, spec.burst))
    seller = sb.world.account("seller-na").selling_partner_id
    assert not res["errors"], res["errors"][0]
    assert sb.stats.throttled_for(OP, seller) == 0
    assert sb.stats.requests_for(OP, seller) == WORKERS * 2
    snap = DynamoRateLimiter(res["table"], moto_serial_server.endpoint).snapshot(seller, OP)
    assert abs(float(snap["ceiling"]) - spec.rate * 0.5 / scale) < 1e-6
    assert float(snap["burst"]) <= 8


def test_a_response_to_a_request_sent_before_a_429_does_not_forgive_it(
    moto_serial_server: MotoServer,
) -> None:
    """Two workers share a bucket; B's request is throttled (no rate header: a suspected spurious 429). A's
    request, reserved before that 429, then succeeds: it says nothing about the server's bucket after the
    429, so the 429 stays pending (it used to be forgiven: tokens restored while the server's bucket was
    really empty, and the next requests were throttled too). A request reserved after the 429 does decide
    (it used to be skipped as "nothing to change" by a worker whose last view had no pending 429)."""
    table = create_state_table(moto_serial_server, unique("splake-rl"))
    seller, rate = "A1SELLER", 4.0

    async def scenario() -> list[bool]:
        a, b, c = (DynamoRateLimiter(table, moto_serial_server.endpoint) for _ in range(3))
        await a.acquire(seller, OP)  # the probe: learns the live rate
        a.observe(seller, OP, str(rate))
        reserved, answer = asyncio.Event(), asyncio.Event()

        async def request_a() -> None:  # reserved now, answered only after B's 429
            await a.acquire(seller, OP)
            reserved.set()
            await answer.wait()
            a.observe(seller, OP, str(rate * 1.25))  # (a changed limit: the response is not skipped)

        async def request_b() -> None:
            await b.acquire(seller, OP)
            b.throttled(seller, OP)

        task_a = asyncio.create_task(request_a())
        await reserved.wait()
        await asyncio.create_task(request_b())
        suspect: list[bool] = [bool(a.snapshot(seller, OP)["suspect"])]
        answer.set()
        await task_a
        suspect.append(bool(a.snapshot(seller, OP)["suspect"]))

        async def request_c() -> None:  # reserved after the 429: its success shows the 429 was spurious
            await c.acquire(seller, OP)
            c.observe(seller, OP, None)

        await asyncio.create_task(request_c())
        suspect.append(bool(a.snapshot(seller, OP)["suspect"]))
        return suspect

    assert asyncio.run(scenario()) == [True, True, False]
