"""Benchmark: the same catalog + listings fetch with splake's client and with python-amazon-sp-api.

Both talk to the sandbox at the official (real-time) usage plans: ``getListingsItem`` (5 r/s, burst 10)
for N SKUs and ``getCatalogItem`` 2022-04-01 (2 r/s, burst 2) for their ASINs. python-amazon-sp-api is used
the way its docs show (one synchronous client per API, ``@throttle_retry()``-style retry on 429), pointed
at the sandbox by overriding its endpoint and its LWA host (it has no URL option, so via subclasses).

The floor is the rate-limit minimum for each operation; splake runs both operations concurrently (floor =
the larger), a synchronous client runs them one after the other (floor = the sum). Reported: wall time,
429 count (from the sandbox's counters), ratios. Merged into bench/results.json under "peer".

    .venv/bin/python -m bench peer            # N=60 SKUs (~1-2 minutes)
    .venv/bin/python bench/peer_bench.py --skus 30
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.config import parse_config
from splake.errors import SplakeError
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.catalog import products_for
from splake.spapi.client import SpApiClient
from splake.spapi.retry import RetryPolicy
from splake.spapi.usage_plans import operation

ACCOUNT = "seller-na"
US = "ATVPDKIKX0DER"
OPS = ("getListingsItem", "getCatalogItem")


def _floor(op: str, n: int) -> float:
    spec = operation(op)
    return max(0.0, (n - spec.burst) / spec.rate)


def _targets(sb: SandboxServer, n: int) -> tuple[list[str], list[str]]:
    products = products_for(sb.world.seed, sb.world.account(ACCOUNT), sb.world.scale)[:n]
    return [p.sku for p in products], [p.asin for p in products]


async def run_splake(sb: SandboxServer, tmp: Path, n: int) -> dict[str, Any]:
    w = sb.world
    a = w.account(ACCOUNT)
    settings = parse_config(
        {
            "lwa": {"client_id": w.client_id, "token_url": sb.url + "/auth/o2/token"},
            "spapi": {"endpoint_override": sb.url, "max_retries": 20},
            "accounts": [
                {
                    "id": ACCOUNT,
                    "region": a.region,
                    "selling_partner_id": a.selling_partner_id,
                    "marketplaces": list(a.marketplace_ids),
                }
            ],
        }
    )
    secrets = LocalSecretStore(tmp / "secrets")
    secrets.put("lwa/client_secret", w.client_secret)
    secrets.put(f"accounts/{ACCOUNT}/refresh_token", a.refresh_token)
    client = SpApiClient(settings, secrets, retry=RetryPolicy(max_retries=20))
    acct = settings.account(ACCOUNT)
    await client.lwa.access_token(acct)  # LWA exchange outside the measured window (as for the peer)
    skus, asins = _targets(sb, n)
    failures = 0

    async def listing(sku: str) -> None:
        nonlocal failures
        try:
            await client.call(
                acct,
                "getListingsItem",
                path={"sellerId": a.selling_partner_id, "sku": sku},
                params={"marketplaceIds": US},
            )
        except SplakeError:
            failures += 1

    async def catalog(asin: str) -> None:
        nonlocal failures
        try:
            await client.call(acct, "getCatalogItem", path={"asin": asin}, params={"marketplaceIds": US})
        except SplakeError:
            failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(listing(s) for s in skus), *(catalog(x) for x in asins))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return {"seconds": round(elapsed, 2), "failures": failures}


def run_peer(sb: SandboxServer, n: int) -> dict[str, Any]:
    from sp_api.api import CatalogItems, ListingsItems
    from sp_api.auth import AccessTokenClient
    from sp_api.base import Marketplaces, SellingApiException, SellingApiRequestThrottledException

    w = sb.world
    a = w.account(ACCOUNT)
    host = sb.url.removeprefix("http://")

    class SandboxLwa(AccessTokenClient):  # type: ignore[misc]
        scheme = "http://"

    SandboxLwa.host = host

    creds = {
        "lwa_app_id": w.client_id,
        "lwa_client_secret": w.client_secret,
        "refresh_token": a.refresh_token,
    }

    def client(cls: Any, **kw: Any) -> Any:
        c = cls(marketplace=Marketplaces.US, credentials=creds, auth_token_client_class=SandboxLwa, **kw)
        c.endpoint = sb.url  # the library has no endpoint option: every request goes to self.endpoint
        return c

    listings = client(ListingsItems)
    catalog = client(CatalogItems, version="2022-04-01")
    _ = listings.auth  # LWA exchange outside the measured window
    skus, asins = _targets(sb, n)
    failures = 0

    def with_retry(fn: Any, *args: Any, **kw: Any) -> None:
        # sp_api.util.throttle_retry(): tries=10, delay=5 s, backoff x1.3 (the documented pattern)
        nonlocal failures
        delay = 5.0
        for _ in range(10):
            try:
                fn(*args, **kw)
                return
            except SellingApiRequestThrottledException:
                time.sleep(delay)
                delay *= 1.3
            except SellingApiException:
                failures += 1
                return
        failures += 1

    started = time.perf_counter()
    for sku in skus:
        with_retry(listings.get_listings_item, a.selling_partner_id, sku, marketplaceIds=US)
    for asin in asins:
        with_retry(catalog.get_catalog_item, asin, marketplaceIds=US)
    elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "failures": failures}


def _counts(sb: SandboxServer) -> dict[str, int]:
    return {
        "requests": sum(sb.stats.requests_for(op) for op in OPS),
        "http_429": sum(sb.stats.throttled_for(op) for op in OPS),
    }


async def run(n: int) -> dict[str, Any]:
    floors = {op: round(_floor(op, n), 2) for op in OPS}
    out: dict[str, Any] = {
        "skus": n,
        "operations": list(OPS),
        "rate_limit_floor_seconds": floors,
        "floor_concurrent_seconds": max(floors.values()),
        "floor_sequential_seconds": round(sum(floors.values()), 2),
    }
    with tempfile.TemporaryDirectory() as tmp:
        with SandboxServer(SandboxConfig(seed=7, time_scale=1.0)) as sb:
            res = await run_splake(sb, Path(tmp), n)
            res |= _counts(sb)
        out["splake"] = res
        print(f"  splake:                {res}", flush=True)
        with SandboxServer(SandboxConfig(seed=7, time_scale=1.0)) as sb:
            res = await asyncio.to_thread(run_peer, sb, n)
            res |= _counts(sb)
        out["python_amazon_sp_api"] = res
        print(f"  python-amazon-sp-api:  {res}", flush=True)
    s, p = out["splake"], out["python_amazon_sp_api"]
    out["splake_ratio_to_floor"] = round(s["seconds"] / out["floor_concurrent_seconds"], 3)
    out["peer_ratio_to_floor"] = round(p["seconds"] / out["floor_sequential_seconds"], 3)
    out["peer_over_splake_seconds"] = round(p["seconds"] / s["seconds"], 3)
    out["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        from importlib.metadata import version

        out["peer_version"] = version("python-amazon-sp-api")
    except Exception:
        out["peer_version"] = None
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=60)
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import sp_api  # noqa: F401
    except ImportError:
        print("python-amazon-sp-api is not installed: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        raise SystemExit(2) from None
    result = asyncio.run(run(args.skus))
    print(
        f"peer: splake {result['splake']['seconds']} s ({result['splake']['http_429']} x 429) vs "
        f"python-amazon-sp-api {result['python_amazon_sp_api']['seconds']} s "
        f"({result['python_amazon_sp_api']['http_429']} x 429); floor {result['floor_concurrent_seconds']} s "
        f"concurrent / {result['floor_sequential_seconds']} s sequential"
    )
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.__main__ import merge_results

    merge_results("peer", main())
