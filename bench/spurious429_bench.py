"""Benchmark: one spurious 429 (no rate header) on createReport and getReports vs the same sync without it.

Amazon answers 429 now and then although the quota has room. A 429 never carries the rate header, so the
client cannot tell; the limiter backs off once and, when the next request succeeds, returns to the
modelled rate (:mod:`splake.spapi.ratelimit`). Before that fix one such 429 drained the whole burst of
createReport (one token a minute): a sync taking 8 s without it took 435 s.

Two syncs of the same account (3 marketplaces x 5 report types = 15 reports) against a real-time sandbox
(real rate limits, reports processed in ``--processing`` seconds), each on a fresh sandbox and lake:
baseline, then with the sandbox knob ``spurious_429_once=("createReport", "getReports")`` (the first request
of each of those operations is answered 429). Reported: both wall times and their ratio (goal ≤ 2).
Merged into bench/results.json under "spurious429".

    .venv/bin/python -m bench spurious429
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.logs import configure_cli_logging
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

ACCOUNT = "seller-eu"
FAULTED_OPS = ("createReport", "getReports")
REPORT_TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)


async def one_sync(processing: float, spurious_once: tuple[str, ...]) -> dict[str, Any]:
    cfg = SandboxConfig(
        seed=7, time_scale=1.0, processing_seconds=processing, spurious_429_once=spurious_once
    )
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(cfg) as sb:
        start = (datetime.now(UTC) - timedelta(days=1)).date()
        base = demo_settings(
            sb.url, Path(tmp) / "lake", [ACCOUNT], world=sb.world, start_date=start, lookback_days=1
        )
        accounts = tuple(a.model_copy(update={"report_types": REPORT_TYPES}) for a in base.accounts)
        settings = base.model_copy(update={"accounts": accounts})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)
        ctx = LocalContext.open(settings)
        started = time.perf_counter()
        try:
            summary = await sync(settings, ctx, max_wait_seconds=1800)
        finally:
            await ctx.aclose()
        wall = time.perf_counter() - started
        faults = sb.stats.faults["spurious_429"]
        throttled = sum(sb.stats.throttled.values())
    return {
        "wall_seconds": round(wall, 2),
        "reports_landed": sum(s.ingested + s.cancelled for s in summary.streams.values()),
        "failures": len(summary.failures),
        "spurious_429": faults,
        "http_429": throttled,
    }


async def run(processing: float) -> dict[str, Any]:
    baseline = await one_sync(processing, ())
    faulted = await one_sync(processing, FAULTED_OPS)
    ratio = round(faulted["wall_seconds"] / baseline["wall_seconds"], 3)
    return {
        "account": ACCOUNT,
        "reports": len(REPORT_TYPES) * 3,
        "processing_seconds": processing,
        "faulted_operations": list(FAULTED_OPS),
        "baseline": baseline,
        "with_spurious_429": faulted,
        "ratio_vs_baseline": ratio,
        "ok": ratio <= 2.0 and faulted["failures"] == 0 and faulted["spurious_429"] == len(FAULTED_OPS),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processing", type=float, default=5.0, help="sandbox report processing seconds")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    counter = configure_cli_logging("WARNING")  # retries/429s counted, not printed line by line
    res = asyncio.run(run(args.processing))
    b, f = res["baseline"], res["with_spurious_429"]
    print(
        f"spurious429: baseline {b['wall_seconds']} s, with one spurious 429 on {'/'.join(FAULTED_OPS)} "
        f"{f['wall_seconds']} s (429s={f['http_429']}, failures={f['failures']}) "
        f"→ ratio {res['ratio_vs_baseline']}"
    )
    if counter.summary():
        print(f"client side: {counter.summary()}")
    return res


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.__main__ import merge_results

    merge_results("spurious429", main())
