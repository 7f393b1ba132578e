"""Benchmark: catalog + listings sync of N SKUs against the sandbox at the official rate limits.

The rate-limit minimum is what the usage plans allow at best (token bucket, full burst at start) with
the best operation mix: searchCatalogItems 2 r/s burst 2 for ceil(N/20) calls, and listings through
searchListingsItems (20 SKUs per call, 5 r/s burst 5) for ceil(N/20) calls — getListingsItem per SKU
(5 r/s burst 10, N calls) returns the same data 20 times slower. The two fetches run concurrently, so the
floor is the larger of the two (``min_seconds``); the sequential baseline (catalog, then listings) is their
sum; ``per_sku_listings_floor_seconds`` is what the old getListingsItem-per-SKU mix would need at best.
Prints ``ratio = fetch_seconds / min_seconds`` (target ≤ 1.1) and merges the results into
bench/results.json under "items".

    .venv/bin/python bench/items_bench.py                 # 2,000 SKUs at real rates (~1 minute)
    .venv/bin/python bench/items_bench.py --skus 200      # quicker check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.config import parse_config
from splake.items.context import open_local_env
from splake.items.plan import min_duration
from splake.items.registry import Registry, TrackedItem
from splake.items.sync import sync_items
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.catalog import BASE_SKUS_PER_ACCOUNT, products_for
from splake.spapi.usage_plans import operation

RESULTS = Path(__file__).with_name("results.json")
US = "ATVPDKIKX0DER"


def merge_results(key: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


async def run(skus: int, time_scale: float) -> dict[str, Any]:
    scale = max(1.0, math.ceil(skus / BASE_SKUS_PER_ACCOUNT * 100) / 100 + 0.01)
    with (
        SandboxServer(SandboxConfig(seed=7, time_scale=time_scale, scale=scale)) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        w = sb.world
        acct = w.account("seller-na")
        settings = parse_config(
            {
                "lake": {"path": str(Path(tmp) / "lake")},
                "lwa": {"client_id": w.client_id, "token_url": sb.url + "/auth/o2/token"},
                "spapi": {"endpoint_override": sb.url, "concurrency": 32},
                "accounts": [
                    {
                        "id": "seller-na",
                        "region": "NA",
                        "selling_partner_id": acct.selling_partner_id,
                        "marketplaces": ["US"],
                    }
                ],
            }
        )
        secrets = LocalSecretStore(Path(tmp) / "secrets")
        secrets.put(settings.lwa.client_secret_ref, w.client_secret)
        secrets.put(settings.accounts[0].secret_ref, acct.refresh_token)
        env = open_local_env(settings, secrets)
        products = products_for(w.seed, acct, w.scale)[:skus]
        assert len(products) == skus, f"sandbox has only {len(products)} products"
        now = datetime.now(UTC)
        # As after a listings report landed: SKUs with their ASINs.
        Registry(env.state).add(
            [TrackedItem("seller-na", US, "sku", p.sku, p.asin, ("report",)) for p in products], now
        )
        t0 = time.monotonic()
        summary = await sync_items(env)
        total = time.monotonic() - t0
        await env.client.aclose()  # type: ignore[attr-defined]
        ops = ("searchCatalogItems", "searchListingsItems", "getListingsItem")
        throttled = {op: sb.stats.throttled_for(op) for op in ops}
        requests = {op: sb.stats.requests_for(op) for op in ops}
    cat_op, lst_op = operation("searchCatalogItems"), operation("searchListingsItems")
    per_sku = operation("getListingsItem")
    scale_t = time_scale if time_scale > 0 else 1.0
    cat_min = min_duration(summary.catalog_calls, cat_op.rate, cat_op.burst) * scale_t
    lst_min = min_duration(summary.listings_calls, lst_op.rate, lst_op.burst) * scale_t
    floor = max(cat_min, lst_min)
    return {
        "skus": skus,
        "time_scale": time_scale,
        "catalog_calls": summary.catalog_calls,
        "listings_calls": summary.listings_calls,
        "catalog_items": summary.catalog_items,
        "listings_found": summary.listings_found,
        "min_seconds": round(floor, 2),
        "sequential_baseline_seconds": round(cat_min + lst_min, 2),
        "per_sku_listings_floor_seconds": round(min_duration(skus, per_sku.rate, per_sku.burst) * scale_t, 2),
        "requests": requests,
        "fetch_seconds": round(summary.fetch_seconds, 2),
        "land_seconds": round(summary.land_seconds, 2),
        "total_seconds": round(total, 2),
        "ratio": round(summary.fetch_seconds / floor, 3) if floor else None,
        "ratio_vs_sequential": round(summary.fetch_seconds / (cat_min + lst_min), 3) if floor else None,
        "throttled_429": throttled,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (``python -m bench items`` calls it with defaults)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=2000)
    ap.add_argument("--time-scale", type=float, default=1.0, help="1.0 = official rates in real time")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv or [])
    res = asyncio.run(run(args.skus, args.time_scale))
    print(json.dumps(res, indent=2))
    print(
        f"items: {res['skus']} SKUs fetched in {res['fetch_seconds']} s; "
        f"rate-limit minimum {res['min_seconds']} s "
        f"→ ratio {res['ratio']} (target ≤ 1.1); sequential baseline {res['sequential_baseline_seconds']} s "
        f"→ {res['ratio_vs_sequential']}"
    )
    if not args.no_save:
        merge_results("items", res)
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
