"""Benchmark: the adaptive rate limiter against the sandbox at REAL rate limits (time_scale=1).

(a) getListingsItem (usage plan 5 r/s, burst 10): fetch N items concurrently. The best any client can
    do is (N - burst) / rate seconds. Target: measured / theoretical ≤ 1.1 with 0 HTTP 429.
(b) the sandbox's real limit is half the modelled one (rate_limit_factor=0.5; the x-amzn-RateLimit-Limit
    header tells the truth on 2xx). Target: 429s < 2% of requests.

Each scenario also runs a naive baseline in the same process: the same client with no rate limiter,
fixed concurrency (spapi.concurrency = 16) and only retry-with-backoff on 429. Results are merged into
bench/results.json under "ratelimit".

    .venv/bin/python bench/ratelimit_bench.py            # N=300 (~6 minutes: four runs at real limits)
    .venv/bin/python bench/ratelimit_bench.py --items 60 # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config
from splake.errors import SplakeError
from splake.logs import configure_logging
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.catalog import products_for
from splake.spapi.client import SpApiClient
from splake.spapi.ratelimit import LocalRateLimiter, NoRateLimiter, RateLimiter
from splake.spapi.retry import RetryPolicy
from splake.spapi.usage_plans import operation

RESULTS = Path(__file__).with_name("results.json")
OP = "getListingsItem"
ACCOUNT = "seller-na"


def merge_results(key: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def sandbox_settings(sb: SandboxServer) -> Settings:
    w = sb.world
    return parse_config(
        {
            "lwa": {"client_id": w.client_id, "token_url": sb.url + "/auth/o2/token"},
            "spapi": {"endpoint_override": sb.url, "max_retries": 20, "concurrency": 16},
            "accounts": [
                {
                    "id": a.account_id,
                    "type": a.type,
                    "region": a.region,
                    "selling_partner_id": a.selling_partner_id,
                    "marketplaces": list(a.marketplace_ids),
                }
                for a in w.accounts
            ],
        }
    )


async def fetch_all(sb: SandboxServer, secrets_dir: Path, n: int, limiter: RateLimiter) -> dict[str, Any]:
    settings = sandbox_settings(sb)
    secrets = LocalSecretStore(secrets_dir)
    secrets.put("lwa/client_secret", sb.world.client_secret)
    secrets.put(f"accounts/{ACCOUNT}/refresh_token", sb.world.account(ACCOUNT).refresh_token)
    acct = settings.account(ACCOUNT)
    skus = [p.sku for p in products_for(sb.world.seed, sb.world.account(ACCOUNT), sb.world.scale)[:n]]
    http = httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=32))
    client = SpApiClient(settings, secrets, limiter=limiter, http=http, retry=RetryPolicy(max_retries=20))
    await client.lwa.access_token(acct)  # the LWA exchange is not part of the measured window
    failures = 0

    async def one(sku: str) -> None:
        nonlocal failures
        try:
            await client.call(
                acct,
                OP,
                path={"sellerId": acct.selling_partner_id, "sku": sku},
                params={"marketplaceIds": acct.marketplaces[0]},
            )
        except SplakeError:
            failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(s) for s in skus))
    elapsed = time.perf_counter() - started
    await client.aclose()
    await http.aclose()
    requests = sb.stats.requests_for(OP)
    throttled = sb.stats.throttled_for(OP)
    return {
        "seconds": round(elapsed, 2),
        "requests": requests,
        "http_429": throttled,
        "http_429_pct": round(100.0 * throttled / max(1, requests), 2),
        "failures": failures,
    }


async def scenario(n: int, factor: float, tmp: Path) -> dict[str, Any]:
    spec = operation(OP)
    rate = spec.rate * factor
    burst = max(1, math.ceil(spec.burst * factor))
    theoretical = max(0.0, (n - burst) / rate)
    out: dict[str, Any] = {
        "items": n,
        "rate_limit_factor": factor,
        "real_rate": rate,
        "real_burst": burst,
        "theoretical_seconds": round(theoretical, 2),
    }
    runs: list[tuple[str, RateLimiter]] = [("splake", LocalRateLimiter()), ("naive", NoRateLimiter())]
    for name, limiter in runs:
        with SandboxServer(SandboxConfig(seed=7, time_scale=1.0, rate_limit_factor=factor)) as sb:
            res = await fetch_all(sb, tmp / f"secrets-{name}-{factor}", n, limiter)
        res["ratio_to_theoretical"] = round(res["seconds"] / theoretical, 3) if theoretical else None
        out[name] = res
        print(
            f"  factor={factor} {name:>6}: {res['seconds']:7.2f} s  (theoretical {theoretical:.1f} s, "
            f"ratio {res['ratio_to_theoretical']})  requests={res['requests']}  "
            f"429s={res['http_429']} ({res['http_429_pct']}%)  failures={res['failures']}",
            flush=True,
        )
    s, b = out["splake"], out["naive"]
    out["naive_over_splake_seconds"] = round(b["seconds"] / s["seconds"], 3)
    out["naive_429s_minus_splake_429s"] = b["http_429"] - s["http_429"]
    return out


async def run(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        a = await scenario(n, 1.0, Path(tmp))
        b = await scenario(n, 0.5, Path(tmp))
    a["targets_met"] = bool(
        a["splake"]["ratio_to_theoretical"] <= 1.1
        and a["splake"]["http_429"] == 0
        and not a["splake"]["failures"]
    )
    b["targets_met"] = bool(b["splake"]["http_429_pct"] < 2.0 and not b["splake"]["failures"])
    return {
        "operation": OP,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "a_real_limits": a,
        "b_real_limit_half_of_model": b,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print only; don't touch results.json")
    args = parser.parse_args()
    configure_logging("ERROR")  # retries are expected (the naive baseline); keep the output readable
    print(f"rate-limit bench: {args.items} x {OP} at real limits (time_scale=1)", flush=True)
    result = asyncio.run(run(args.items))
    a, b = result["a_real_limits"], result["b_real_limit_half_of_model"]
    print(
        f"(a) splake {a['splake']['seconds']} s = {a['splake']['ratio_to_theoretical']}x theoretical "
        f"(target ≤ 1.1), 429s {a['splake']['http_429']} (target 0); naive {a['naive']['seconds']} s, "
        f"{a['naive']['http_429']} 429s"
    )
    print(
        f"(b) splake 429s {b['splake']['http_429_pct']}% of requests (target < 2%), "
        f"{b['splake']['ratio_to_theoretical']}x theoretical; naive {b['naive']['http_429_pct']}% 429s, "
        f"{b['naive']['ratio_to_theoretical']}x theoretical"
    )
    if not args.no_write:
        merge_results("ratelimit", result)
        print(f"wrote {RESULTS} [ratelimit]")


if __name__ == "__main__":
    main()
