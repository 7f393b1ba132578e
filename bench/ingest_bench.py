"""Ingest throughput and peak memory of a large flat-file report, against a pyarrow baseline.

Generates an orders flat file (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL columns, cp1252 with
€/umlauts, gzip-compressed as Amazon serves it) of a given *uncompressed* size, then in fresh child
processes measures:

- **splake**: the pipeline's ingest of a downloaded document — raw zone put (byte-for-byte copy + sidecar),
  gunzip + cp1252 → UTF-8 decoded while it is parsed (no temp file), streamed TSV parse with per-column casts
  and quarantine, curated Iceberg write (row keys, provenance, one replace-by-window commit), with the
  allocator settings the CLI makes (``splake.reports.memory``: Arrow on jemalloc);
- **pyarrow baseline**: ``pyarrow.csv.open_csv`` on the same gzip file (cp1252, tab, no quoting) streamed into
  a single Parquet file — reading + writing only, no typing, keys or table commit; pyarrow as installed
  (its default allocator).
- **pandas baseline** when pandas is installed (chunked ``read_csv`` → Parquet).

Prints MB/s (uncompressed MB) for each and the ratio, plus peak RSS, and merges the numbers into
bench/results.json under "ingest". Sizes default to 100 MB and 1 GB (``--sizes 100,1000``).

    .venv/bin/python bench/ingest_bench.py                 # 100 MB and 1 GB
    .venv/bin/python bench/ingest_bench.py --sizes 100     # quick
    .venv/bin/python bench/ingest_bench.py --sizes 100 --kinds splake --data-dir /tmp/ib   # profiling loop

``--kinds`` without ``pyarrow`` prints no ratio and leaves bench/results.json alone (a ratio is only ever
against a baseline measured in the same run); ``--data-dir`` keeps the generated files for the next run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# ruff: noqa: RUF001  (typographic dashes/quotes: the cp1252 test data is the point)

RESULTS = Path(__file__).with_name("results.json")
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
US = "ATVPDKIKX0DER"
WINDOW_START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 10, 31, tzinfo=UTC)
MB = 1_000_000
RSS_LIMIT_MB = 600

HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
    "sales-channel\torder-channel\turl\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\t"
    "currency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\t"
    "item-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\t"
    "promotion-ids\tis-business-order\tpurchase-order-number\tprice-designation"
)
PRODUCTS = [
    "Müller Küchenwaage – Edelstahl",
    "Crème brûlée Set, 4 Förmchen",
    "Outdoor Rucksack 30L „Alpin“",
    "Trinkflasche 750 ml – BPA-frei",
    "Café-Tassen Set (6 Stück) €-Deal",
]
CITIES = ["München", "Köln", "Düsseldorf", "Zürich", "Göteborg", "Seattle", "Portland"]


def merge_results(key: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def generate(path: Path, size_mb: int, seed: int = 1) -> tuple[int, int]:
    """Write a gzip cp1252 orders flat file of about ``size_mb`` uncompressed MB; returns (rows, bytes)."""
    rng = random.Random(seed)
    target = size_mb * MB
    written = 0
    rows = 0
    span = int((WINDOW_END - WINDOW_START).total_seconds()) - 1
    with gzip.open(path, "wb", compresslevel=1) as gz:
        head = (HEADER + "\n").encode("cp1252")
        gz.write(head)
        written += len(head)
        buf: list[str] = []
        while written < target:
            for _ in range(2000):
                t = WINDOW_START + timedelta(seconds=rng.randrange(span))
                ts = t.strftime("%Y-%m-%dT%H:%M:%S+00:00")
                price = rng.randrange(199, 99999) / 100
                oid = f"{rng.randrange(100, 999)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
                sku = f"SKU-{rng.randrange(50000):05d}"
                line = (
                    f"{oid}\t\t{ts}\t{ts}\tShipped\tAmazon\tAmazon.com\t\t\tStandard\t{rng.choice(PRODUCTS)}\t"
                    f"{sku}\tB0{rng.randrange(10**8):08d}\tShipped\t{rng.randrange(1, 5)}\tUSD\t{price:.2f}\t"
                    f"{price * 0.08:.2f}\t4.99\t0.40\t\t\t\t\t{rng.choice(CITIES)}\tWA\t98101\tUS\t\t"
                    "false\t\t"
                )
                buf.append(line)
            chunk = ("\n".join(buf) + "\n").encode("cp1252")
            buf.clear()
            gz.write(chunk)
            written += len(chunk)
            rows += 2000
    return rows, written


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_splake(src: Path, work: Path) -> dict[str, Any]:
    import asyncio

    from splake.config import parse_config
    from splake.reports import pipeline
    from splake.reports.ledger import new_entry, on_report_obtained, on_status
    from splake.reports.planner import Window, WorkUnit
    from splake.runners.local import LocalContext
    from splake.spapi.download import DownloadInfo

    class NoClient:
        async def call(self, *a: object, **k: object) -> object:
            raise RuntimeError("offline benchmark")

        async def download(self, url: str, dest: str | Path) -> DownloadInfo:
            raise RuntimeError("offline benchmark")

        async def aclose(self) -> None:
            return None

    settings = parse_config(
        {
            "lake": {"path": str(work / "lake")},
            "lwa": {"client_id": "bench"},
            "accounts": [
                {"id": "bench", "region": "NA", "selling_partner_id": "A1BENCH", "marketplaces": ["US"]}
            ],
        }
    )
    ctx = LocalContext.open(settings, client=NoClient())
    unit = WorkUnit("bench", REPORT_TYPE, (US,), Window(WINDOW_START, WINDOW_END))
    now = datetime.now(UTC)
    entry = on_status(
        on_report_obtained(new_entry(unit), "B1", "IN_QUEUE", now, reused=False),
        "B1",
        "DONE",
        "DOC1",
        now,
        cooldown=timedelta(minutes=30),
    )
    info = DownloadInfo("text/plain", "Cp1252", None, src.stat().st_size)
    started, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    ref = ctx.raw.put_document(
        "bench",
        "reports",
        "B1",
        src,
        {"report_type": REPORT_TYPE, "report_id": "B1", "data_start": WINDOW_START},
    )
    rows, quarantined = pipeline.land_document(ctx, entry, src, info, "GZIP", ref.key, now)
    seconds = time.perf_counter() - started
    cpu, main_cpu = time.process_time() - cpu, time.thread_time() - main_cpu
    stats = ctx.lake.table_stats()
    asyncio.run(ctx.aclose())
    return {
        "seconds": seconds,
        "cpu_s": round(cpu, 2),  # all threads: less sensitive to other load than the wall time
        "main_thread_cpu_s": round(main_cpu, 2),
        "rows": rows,
        "quarantined": quarantined,
        "table_rows": stats.get("orders_by_order_date"),
    }


def child_pyarrow(src: Path, work: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    started, cpu = time.perf_counter(), time.process_time()
    reader = pacsv.open_csv(
        pa.input_stream(str(src), compression="gzip"),
        read_options=pacsv.ReadOptions(encoding="cp1252", block_size=8 << 20),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
    )
    rows = 0
    with pq.ParquetWriter(str(work / "baseline.parquet"), reader.schema, compression="zstd") as w:
        for batch in reader:
            w.write_batch(batch)
            rows += batch.num_rows
    return {
        "seconds": time.perf_counter() - started,
        "cpu_s": round(time.process_time() - cpu, 2),
        "rows": rows,
    }


def child_pandas(src: Path, work: Path) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-not-found]
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    rows = 0
    writer = None
    for df in pd.read_csv(src, sep="\t", encoding="cp1252", compression="gzip", chunksize=200_000, dtype=str):
        t = pa.Table.from_pandas(df, preserve_index=False)
        writer = writer or pq.ParquetWriter(str(work / "pandas.parquet"), t.schema, compression="zstd")
        writer.write_table(t)
        rows += len(df)
    if writer:
        writer.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


CHILDREN = {"splake": child_splake, "pyarrow": child_pyarrow, "pandas": child_pandas}


def run_child(kind: str, src: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"ingest-bench-{kind}-") as work:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(src), work],
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100,1000", help="uncompressed sizes in MB, comma-separated")
    p.add_argument("--kinds", help="comma-separated subset of splake,pyarrow,pandas (default: all installed)")
    p.add_argument("--data-dir", type=Path, help="keep (and reuse) the generated files in this directory")
    p.add_argument("--child", nargs=3, metavar=("KIND", "SRC", "WORK"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind, src, work = args.child
        if kind == "splake":
            from splake.reports.memory import configure_arrow_memory

            configure_arrow_memory()  # as the `splake` CLI does at start-up
        res = CHILDREN[kind](Path(src), Path(work))
        res["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(res))
        return res
    try:
        import pandas  # type: ignore[import-not-found]  # noqa: F401

        kinds = ["splake", "pyarrow", "pandas"]
    except ImportError:
        kinds = ["splake", "pyarrow"]
    if args.kinds:
        kinds = [k for k in args.kinds.split(",") if k]
        unknown = [k for k in kinds if k not in CHILDREN]
        if unknown:
            p.error(f"unknown kinds {unknown}: use {', '.join(CHILDREN)}")
    compare = "splake" in kinds and "pyarrow" in kinds
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
            src = (args.data_dir or Path(tmp)) / f"orders-{size}mb.txt.gz"
            meta = src.with_suffix(".json")
            t0 = time.perf_counter()
            if args.data_dir and src.exists() and meta.exists():
                rows, raw_bytes = json.loads(meta.read_text())
            else:
                src.parent.mkdir(parents=True, exist_ok=True)
                rows, raw_bytes = generate(src, size)
                meta.write_text(json.dumps([rows, raw_bytes]))
            print(
                f"[{size} MB] {rows:,} rows, {raw_bytes / MB:.0f} MB uncompressed, "
                f"{src.stat().st_size / MB:.0f} MB gzip ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            entry: dict[str, Any] = {"rows": rows, "uncompressed_mb": round(raw_bytes / MB, 1)}
            for kind in kinds:
                load = os.getloadavg()[0]  # other work on the machine skews both sides: recorded with them
                r = run_child(kind, src)
                r["load_1m"] = round(load, 2)
                r["mb_per_s"] = round(raw_bytes / MB / r["seconds"], 1)
                r["seconds"] = round(r["seconds"], 2)
                entry[kind] = r
                print(
                    f"[{size} MB] {kind:8s} {r['mb_per_s']:7.1f} MB/s  {r['seconds']:7.1f} s  "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB  rows {r['rows']:,}  load {load:.1f}  "
                    f"CPU {r.get('cpu_s', '?')} s",
                    flush=True,
                )
            if not compare:
                continue
            entry["ratio_splake_vs_pyarrow"] = round(
                entry["splake"]["mb_per_s"] / entry["pyarrow"]["mb_per_s"], 3
            )
            entry["rss_ok"] = entry["splake"]["peak_rss_mb"] < RSS_LIMIT_MB
            entry["rows_ok"] = entry["splake"]["table_rows"] == rows
            print(
                f"[{size} MB] splake/pyarrow throughput ratio {entry['ratio_splake_vs_pyarrow']:.2f}; "
                f"peak RSS {'under' if entry['rss_ok'] else 'OVER'} {RSS_LIMIT_MB} MB",
                flush=True,
            )
            results["sizes"][f"{size}mb"] = entry
    if compare:
        merge_results("ingest", results)
    return results


if __name__ == "__main__":
    if os.environ.get("SPLAKE_BENCH_QUIET"):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    main()
