"""Large JSON and XML reports through the real ingest path: peak RSS flat in the document size.

Generates, gzip-compressed as Amazon serves them, a Brand Analytics search terms report (JSON,
``dataByDepartmentAndSearchTerm``) and an XML all-orders report (``GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_
GENERAL``: an Order with its OrderItems per Message) of a given *uncompressed* size, then in fresh child
processes measures:

- **splake**: ``pipeline.land_document`` — gunzip/decode to a temp file, streamed parse (ijson for JSON,
  ``iterparse`` with element clearing and a DTD refused for XML) into typed rows, curated Iceberg write
  (row keys, provenance, one replace-by-window commit);
- **floor** (same run): the streaming parse alone — ijson items / the C ``iterparse`` rows counted, no
  typing, no lake write: what streaming costs at least;
- **json.load** (JSON, sizes ≤ 200 MB only): the naive in-memory parse splake used before, to show the
  memory it needs per document MB (a 1 GB document would not fit).

Prints MB/s and peak RSS per kind and merges the numbers into bench/results.json under "documents".

    .venv/bin/python bench/documents_bench.py                  # 100 MB and 1 GB, JSON and XML
    .venv/bin/python bench/documents_bench.py --sizes 100      # quick
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

RESULTS = Path(__file__).with_name("results.json")
US = "ATVPDKIKX0DER"
MB = 1_000_000
RSS_LIMIT_MB = 600
NAIVE_MAX_MB = 200
TYPES = {
    "json": "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT",
    "xml": "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
}
TABLES = {"json": "ba_search_terms", "xml": "orders_xml_by_order_date"}
WINDOW = {
    "json": (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)),
    "xml": (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)),
}
DEPARTMENTS = ["Amazon.com", "Home & Kitchen", "Sports & Outdoors", "Tools & Home Improvement", "Küche"]
WORDS = ["storage", "bins", "led", "lamp", "camping", "chair", "water", "bottle", "garden", "hose", "desk"]


def merge_results(key: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def generate_json(path: Path, size_mb: int, seed: int = 1) -> tuple[int, int]:
    """A search terms report of about ``size_mb`` uncompressed MB; returns (rows, bytes)."""
    rng = random.Random(seed)
    start, _end = WINDOW["json"]
    head = json.dumps(
        {
            "reportType": TYPES["json"],
            "reportOptions": {"reportPeriod": "DAY"},
            "dataStartTime": start.date().isoformat(),
            "dataEndTime": start.date().isoformat(),
            "marketplaceIds": [US],
        }
    )
    target, written, rows = size_mb * MB, 0, 0
    with gzip.open(path, "wb", compresslevel=1) as gz:
        first = f'{{"reportSpecification":{head},"dataByDepartmentAndSearchTerm":['.encode()
        gz.write(first)
        written += len(first)
        sep = ""
        while written < target:
            parts = []
            for _ in range(3000):
                term = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
                rank = rows // 3 + 1
                parts.append(
                    sep
                    + json.dumps(
                        {
                            "departmentName": rng.choice(DEPARTMENTS),
                            "searchTerm": f"{term} {rank}",
                            "searchFrequencyRank": rank,
                            "clickedAsin": f"B0{rng.randrange(10**8):08d}",
                            "clickShareRank": rows % 3 + 1,
                            "clickShare": round(rng.random() * 0.4, 4),
                            "conversionShare": round(rng.random() * 0.2, 4),
                        },
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                )
                sep = ","
                rows += 1
            chunk = "".join(parts).encode("utf-8")
            gz.write(chunk)
            written += len(chunk)
        tail = b"]}"
        gz.write(tail)
        written += len(tail)
    return rows, written


def generate_xml(path: Path, size_mb: int, seed: int = 1) -> tuple[int, int]:
    """An XML all-orders report of about ``size_mb`` uncompressed MB; returns (item rows, bytes)."""
    rng = random.Random(seed)
    start, end = WINDOW["xml"]
    span = int((end - start).total_seconds()) - 1
    target, written, rows, n = size_mb * MB, 0, 0, 0
    with gzip.open(path, "wb", compresslevel=1) as gz:
        head = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/'
            b'XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n'
            b"<Header><DocumentVersion>1.01</DocumentVersion></Header>\n"
            b"<MessageType>AllOrdersReport</MessageType>\n"
        )
        gz.write(head)
        written += len(head)
        while written < target:
            parts = []
            for _ in range(1000):
                n += 1
                ts = (start + timedelta(seconds=rng.randrange(span))).strftime("%Y-%m-%dT%H:%M:%S+00:00")
                oid = f"{rng.randrange(100, 999)}-{rng.randrange(10**7):07d}-{n % 10**7:07d}"
                items = []
                for i in range(1 if rng.random() < 0.8 else 3):
                    price = rng.randrange(199, 99999) / 100
                    items.append(
                        f"<OrderItem><AmazonOrderItemCode>{n:09d}{i:05d}</AmazonOrderItemCode>"
                        f"<ASIN>B0{rng.randrange(10**8):08d}</ASIN><SKU>SKU-{rng.randrange(50000):05d}</SKU>"
                        "<ItemStatus>Shipped</ItemStatus><ProductName>Crème brûlée Set &amp; Förmchen"
                        f"</ProductName><Quantity>{rng.randint(1, 4)}</Quantity><ItemPrice>"
                        f'<Component><Type>Principal</Type><Amount currency="USD">{price:.2f}</Amount>'
                        f'</Component><Component><Type>Tax</Type><Amount currency="USD">{price * 0.08:.2f}'
                        "</Amount></Component></ItemPrice></OrderItem>"
                    )
                    rows += 1
                parts.append(
                    f"<Message><MessageID>{n}</MessageID><Order><AmazonOrderID>{oid}</AmazonOrderID>"
                    f"<PurchaseDate>{ts}</PurchaseDate><LastUpdatedDate>{ts}</LastUpdatedDate>"
                    "<OrderStatus>Shipped</OrderStatus><SalesChannel>Amazon.com</SalesChannel>"
                    "<FulfillmentData><FulfillmentChannel>Amazon</FulfillmentChannel><ShipServiceLevel>"
                    "Standard</ShipServiceLevel><Address><City>Seattle</City><State>WA</State><PostalCode>"
                    "98101</PostalCode><Country>US</Country></Address></FulfillmentData>"
                    f"<IsBusinessOrder>false</IsBusinessOrder>{''.join(items)}</Order></Message>\n"
                )
            chunk = "".join(parts).encode("utf-8")
            gz.write(chunk)
            written += len(chunk)
        tail = b"</AmazonEnvelope>\n"
        gz.write(tail)
        written += len(tail)
    return rows, written


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_splake(fmt: str, src: Path, work: Path) -> dict[str, Any]:
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
    start, end = WINDOW[fmt]
    unit = WorkUnit("bench", TYPES[fmt], (US,), Window(start, end))
    now = datetime.now(UTC)
    entry = on_status(
        on_report_obtained(new_entry(unit), "B1", "IN_QUEUE", now, reused=False),
        "B1",
        "DONE",
        "DOC1",
        now,
        cooldown=timedelta(minutes=30),
    )
    ctype = "application/json" if fmt == "json" else "text/xml"
    info = DownloadInfo(ctype, "UTF-8", None, src.stat().st_size)
    started = time.perf_counter()
    ref = ctx.raw.put_document(
        "bench", "reports", "B1", src, {"report_type": TYPES[fmt], "report_id": "B1", "data_start": start}
    )
    rows, quarantined = pipeline.land_document(ctx, entry, src, info, "GZIP", ref.key, now)
    seconds = time.perf_counter() - started
    stats = ctx.lake.table_stats()
    asyncio.run(ctx.aclose())
    return {
        "seconds": seconds,
        "rows": rows,
        "quarantined": quarantined,
        "table_rows": stats.get(TABLES[fmt]),
    }


def child_floor(fmt: str, src: Path, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    rows = 0
    with gzip.open(src, "rb") as f:
        if fmt == "json":
            import ijson

            for _ in ijson.items(f, "dataByDepartmentAndSearchTerm.item", use_float=True):
                rows += 1
        else:
            import xml.etree.ElementTree as ET

            root = None
            for event, elem in ET.iterparse(f, events=("start", "end")):
                if root is None:
                    root = elem
                if event == "end" and elem.tag == "OrderItem":
                    rows += 1
                if event == "end" and elem.tag == "Message":
                    root.clear()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_json_load(fmt: str, src: Path, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with gzip.open(src, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    rows = len(doc["dataByDepartmentAndSearchTerm"])
    return {"seconds": time.perf_counter() - started, "rows": rows}


CHILDREN = {"splake": child_splake, "floor": child_floor, "json.load": child_json_load}


def run_child(kind: str, fmt: str, src: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"documents-bench-{kind}-") as work:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, fmt, str(src), work],
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
    p.add_argument("--formats", default="json,xml")
    p.add_argument("--child", nargs=4, metavar=("KIND", "FMT", "SRC", "WORK"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind, fmt, src, work = args.child
        if kind == "splake":
            from splake.reports.memory import configure_arrow_memory

            configure_arrow_memory()  # as the `splake` CLI does at start-up
        res = CHILDREN[kind](fmt, Path(src), Path(work))
        res["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(res))
        return res
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": {}}
    if RESULTS.exists():  # keep earlier sizes/formats measured separately
        results["runs"] = dict(json.loads(RESULTS.read_text()).get("documents", {}).get("runs", {}))
    for fmt in [f for f in args.formats.split(",") if f]:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            with tempfile.TemporaryDirectory(prefix="documents-bench-") as tmp:
                src = Path(tmp) / f"{fmt}-{size}mb.gz"
                t0 = time.perf_counter()
                rows, raw_bytes = (generate_json if fmt == "json" else generate_xml)(src, size)
                print(
                    f"[{fmt} {size} MB] generated {rows:,} rows, {raw_bytes / MB:.0f} MB uncompressed, "
                    f"{src.stat().st_size / MB:.0f} MB gzip in {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
                entry: dict[str, Any] = {"rows": rows, "uncompressed_mb": round(raw_bytes / MB, 1)}
                kinds = ["splake", "floor"] + (
                    ["json.load"] if fmt == "json" and size <= NAIVE_MAX_MB else []
                )
                for kind in kinds:
                    r = run_child(kind, fmt, src)
                    r["mb_per_s"] = round(raw_bytes / MB / r["seconds"], 1)
                    r["seconds"] = round(r["seconds"], 2)
                    entry[kind] = r
                    print(
                        f"[{fmt} {size} MB] {kind:9s} {r['mb_per_s']:7.1f} MB/s  {r['seconds']:7.1f} s  "
                        f"peak RSS {r['peak_rss_mb']:.0f} MB  rows {r['rows']:,}",
                        flush=True,
                    )
                entry["ratio_splake_vs_floor"] = round(
                    entry["splake"]["mb_per_s"] / entry["floor"]["mb_per_s"], 3
                )
                entry["rss_ok"] = entry["splake"]["peak_rss_mb"] < RSS_LIMIT_MB
                entry["rows_ok"] = (
                    entry["splake"]["table_rows"] == rows and entry["splake"]["quarantined"] == 0
                )
                if "json.load" in entry:
                    entry["json_load_rss_per_doc_mb"] = round(entry["json.load"]["peak_rss_mb"] / size, 2)
                print(
                    f"[{fmt} {size} MB] splake/floor throughput {entry['ratio_splake_vs_floor']:.2f}; "
                    f"peak RSS {'under' if entry['rss_ok'] else 'OVER'} {RSS_LIMIT_MB} MB; rows "
                    f"{'equal' if entry['rows_ok'] else 'DIFFER'}",
                    flush=True,
                )
                results["runs"][f"{fmt}_{size}mb"] = entry
                merge_results("documents", results)
    return results


if __name__ == "__main__":
    if os.environ.get("SPLAKE_BENCH_QUIET"):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    main()
