"""Benchmark: the fixed CPU cost of staging one small report document (what a staging worker does per
document in ``python -m bench multiaccount``).

Setup (once, or reused with ``--lake DIR``): a multi-account sync of ``--accounts`` sellers x 3 EU
marketplaces x 5 report types against a fast sandbox (time-scaled), which leaves ~15 small documents per
account in the lake's raw zone and the curated tables created. Then, in a fresh process set up as a staging
worker (``stagepool._init_worker``: its own catalog, lake and state store, logging and GC settings; no lake
lock), every raw document is staged with
:func:`splake.reports.landing.stage_document` after one warm-up document, its files discarded after each
(nothing is committed), and the CPU seconds per document are measured (``time.process_time``).

Baseline (same run, same process, same documents): pyarrow reading each decoded document (its CSV reader for
flat files, ``json.loads`` for JSON) and writing it to one Parquet file — what staging a document costs at
least. Reported: CPU ms per document for each, their ratio. ``--profile FILE`` writes a cProfile of the
staging loop. Merged into bench/results.json under "stage".

    .venv/bin/python bench/stage_bench.py --accounts 20 --lake /tmp/stagebench --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import io
import json
import logging
import multiprocessing
import os
import pstats
import queue
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SETTINGS_FILE = "stage-bench-settings.json"


async def _sync(lake: Path, n_accounts: int, time_scale: float) -> None:
    from bench.multiaccount_bench import REPORT_TYPES, world_with_sellers
    from splake.auth.secrets import LocalSecretStore
    from splake.reports.sync import sync
    from splake.runners.local import LocalContext, default_secrets_dir
    from splake.sandbox import SandboxConfig, SandboxServer
    from splake.sandbox.demo import demo_settings, seed_demo_secrets

    world = world_with_sellers(7, n_accounts)
    ids = [f"eu-{i:02d}" for i in range(1, n_accounts + 1)]
    with SandboxServer(SandboxConfig(seed=7, time_scale=time_scale), world=world) as sb:
        start = (datetime.now(UTC) - timedelta(days=1)).date()
        base = demo_settings(sb.url, lake, ids, world=world, start_date=start, lookback_days=1)
        accounts = tuple(a.model_copy(update={"report_types": REPORT_TYPES}) for a in base.accounts)
        settings = base.model_copy(update={"accounts": accounts})
        settings = settings.model_copy(
            update={"sync": settings.sync.model_copy(update={"land_processes": 0})}
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), world, settings)
        ctx = LocalContext.open(settings)
        try:
            summary = await sync(settings, ctx, max_wait_seconds=600)
        finally:
            await ctx.aclose()
    (lake / SETTINGS_FILE).write_text(settings.model_dump_json())
    print(f"setup: {summary.rows} rows landed, {len(summary.failures)} failures", flush=True)


def _documents(settings: Any, lake: Path, work: Path) -> list[tuple[Any, Path, Any, str | None, str]]:
    """(entry, file, info, compression, raw key) of every landed document, copied out of the raw zone."""
    from splake.lake.catalog import open_catalog  # noqa: F401 (imported as a worker would)
    from splake.lake.objectstore import LocalObjectStore
    from splake.lake.raw import RawDocument, RawZone
    from splake.reports import ledger
    from splake.reports.hold import RawInfo, raw_to_file
    from splake.state.sqlite import SqliteStateStore

    state = SqliteStateStore(lake / "state.db")
    store = LocalObjectStore(lake)
    raw = RawZone(store)
    out = []
    for e in sorted(ledger.entries(state), key=lambda e: e.key + e.account_id):
        if e.status != "INGESTED" or e.raw_key is None:
            continue
        meta = raw.get_meta(e.raw_key)
        info = RawInfo(meta.get("content_type"), meta.get("charset"), meta.get("content_encoding"), 0)
        path = raw_to_file(RawDocument(e.raw_key, meta, store), work)
        out.append((e, path, info, meta.get("compression_algorithm"), e.raw_key))
    return out


def _baseline(path: Path, compression: str | None, fmt: str, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    data = path.read_bytes()
    if compression:
        data = gzip.decompress(data)
    if fmt == "tsv":
        table = pacsv.read_csv(
            io.BytesIO(data),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
            read_options=pacsv.ReadOptions(encoding="latin-1"),
        )
    else:
        doc = json.loads(data)
        rows = [r for v in doc.values() if isinstance(v, list) for r in v if isinstance(r, dict)]
        table = pa.Table.from_pylist([{k: json.dumps(v) for k, v in r.items()} for r in rows])
    pq.write_table(table, out)


def _measure(settings_json: str, lake: str, profile: str | None) -> dict[str, Any]:
    """In a fresh process, as a staging worker: CPU seconds per staged document, and the baseline's."""
    from splake.config import Settings
    from splake.reports.landing import stage_document
    from splake.reports.types import report_type
    from splake.runners import stagepool

    settings = Settings.model_validate_json(settings_json)
    root = Path(lake)
    with tempfile.TemporaryDirectory() as tmp:
        docs = _documents(settings, root, Path(tmp))
        # the worker's own start-up (its catalog, lake and state store; logging, GC settings), no lock held
        stagepool._init_worker(settings, queue.SimpleQueue(), logging.WARNING, str(root), False)
        ctx: Any = stagepool._WORKER[0]
        now = datetime.now(UTC)

        staged: list[Any] = []

        def stage(d: tuple[Any, Path, Any, str | None, str]) -> None:
            staged.append(stage_document(ctx, d[0], d[1], d[2], d[3], d[4], now).staged)

        stage(docs[0])  # warm-up (as a worker's first document)
        prof = cProfile.Profile() if profile else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if prof is not None:
            prof.enable()
        for d in docs:
            stage(d)
        if prof is not None:
            prof.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rows = sum(s.rows for s in staged[1:])
        for s in staged:
            ctx.lake.discard(s)  # (nothing was committed: the lake is as before)
        if prof is not None and profile:
            prof.dump_stats(profile)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        fmts = {d[0].unit.report_type: report_type(d[0].unit.report_type).format for d in docs}
        _baseline(docs[0][1], docs[0][3], fmts[docs[0][0].unit.report_type], Path(tmp) / "w.parquet")
        b0 = time.process_time()
        for d in docs:
            _baseline(d[1], d[3], fmts[d[0].unit.report_type], Path(tmp) / "b.parquet")
        base = time.process_time() - b0
    n = len(docs)
    return {
        "documents": n,
        "rows": rows,
        "stage_cpu_ms_per_document": round(1000 * cpu / n, 2),
        "stage_wall_ms_per_document": round(1000 * wall / n, 2),
        "baseline_cpu_ms_per_document": round(1000 * base / n, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--lake", help="lake directory to set up once and reuse (default: a temp dir)")
    ap.add_argument("--runs", type=int, default=3, help="measurements, each in a fresh process")
    ap.add_argument("--time-scale", type=float, default=0.02, help="the setup sync's sandbox time scale")
    ap.add_argument("--profile", help="write a cProfile of the (last) staging loop to this file")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(args.lake or Path(tmp) / "lake")
        if not (lake / SETTINGS_FILE).exists():
            lake.mkdir(parents=True, exist_ok=True)
            asyncio.run(_sync(lake, args.accounts, args.time_scale))
        settings_json = (lake / SETTINGS_FILE).read_text()
        mp = multiprocessing.get_context("spawn")
        runs = []
        for i in range(args.runs):
            prof = args.profile if i == args.runs - 1 else None
            with mp.Pool(1) as pool:
                one = pool.apply(_measure, (settings_json, str(lake), prof))
            ratio = one["stage_cpu_ms_per_document"] / one["baseline_cpu_ms_per_document"]
            one["ratio_cpu_to_baseline"] = round(ratio, 3)
            runs.append(one)
            print(
                f"stage run {i + 1}/{args.runs}: {one['documents']} documents, "
                f"{one['stage_cpu_ms_per_document']} CPU-ms/document "
                f"(wall {one['stage_wall_ms_per_document']}) "
                f"vs pyarrow {one['baseline_cpu_ms_per_document']} → ratio {one['ratio_cpu_to_baseline']}",
                flush=True,
            )
    res = {
        "documents": runs[0]["documents"],
        "rows": runs[0]["rows"],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "stage_cpu_ms_per_document": statistics.median(r["stage_cpu_ms_per_document"] for r in runs),
        "baseline_cpu_ms_per_document": statistics.median(r["baseline_cpu_ms_per_document"] for r in runs),
        "ratio_cpu_to_baseline": statistics.median(r["ratio_cpu_to_baseline"] for r in runs),
        "runs": runs,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(
        f"stage: median {res['stage_cpu_ms_per_document']} CPU-ms/document vs pyarrow "
        f"{res['baseline_cpu_ms_per_document']} → ratio {res['ratio_cpu_to_baseline']}"
    )
    return res


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.__main__ import merge_results

    merge_results("stage", main())
