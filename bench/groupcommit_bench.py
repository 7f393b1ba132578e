"""Group commit vs one commit per document, on the local SQLite catalog.

50 orders-like documents (10 accounts x 5 daily "by last update" windows, ~500 rows each, 20 columns; a
tenth of each document's rows are orders updated again, carrying row keys of an earlier window) are staged
once per lake, then committed

- **one by one**: ``commit_staged([doc])`` x 50 (what ``write`` does per document), and
- **grouped**: ``commit_staged(all 50)``, ONE Iceberg transaction,

into two fresh lakes. Both tables must come out identical (rows sorted by row key). Prints the commit times
and the ratio and merges them into bench/results.json under "groupcommit".

    .venv/bin/python -m bench groupcommit
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.tables import Provenance, TableSpec

ACCOUNTS, DAYS, ROWS = 10, 5, 500
US = "ATVPDKIKX0DER"
BASE = datetime(2026, 10, 1, tzinfo=UTC)
SPEC = TableSpec(
    "orders_bench",
    pa.schema(
        [
            ("amazon_order_id", pa.string()),
            ("sku", pa.string()),
            ("asin", pa.string()),
            ("order_status", pa.string()),
            ("fulfillment_channel", pa.string()),
            ("sales_channel", pa.string()),
            ("ship_service_level", pa.string()),
            ("product_name", pa.string()),
            ("item_status", pa.string()),
            ("quantity", pa.int64()),
            ("currency", pa.string()),
            ("item_price", pa.float64()),
            ("item_tax", pa.float64()),
            ("shipping_price", pa.float64()),
            ("ship_city", pa.string()),
            ("ship_state", pa.string()),
            ("ship_postal_code", pa.string()),
            ("ship_country", pa.string()),
            ("purchase_date", pa.timestamp("us", tz="UTC")),
            ("last_updated_date", pa.timestamp("us", tz="UTC")),
        ]
    ),
    key_columns=("amazon_order_id", "sku"),
    replace="window",
    window_column="last_updated_date",
)


def document(rng: random.Random, account: int, day: int) -> tuple[pa.Table, Provenance]:
    start = BASE + timedelta(days=day)
    rows = []
    for i in range(ROWS):
        again = day > 0 and i < ROWS // 10  # an order of an earlier day, updated again today
        origin = rng.randrange(day) if again else day
        order = f"{100 + account:03d}-{origin:04d}-{i + ROWS // 10:07d}"
        rows.append(
            {
                "amazon_order_id": order,
                "sku": f"SKU-{i % 37}",
                "asin": f"B0{i % 997:08d}",
                "order_status": rng.choice(["Pending", "Shipped", "Cancelled"]),
                "fulfillment_channel": "Amazon",
                "sales_channel": "Amazon.com",
                "ship_service_level": "Standard",
                "product_name": f"Product {i % 211} with a longer descriptive title",
                "item_status": "Unshipped",
                "quantity": 1 + i % 3,
                "currency": "USD",
                "item_price": round(rng.uniform(5, 200), 2),
                "item_tax": round(rng.uniform(0, 20), 2),
                "shipping_price": round(rng.uniform(0, 10), 2),
                "ship_city": "Seattle",
                "ship_state": "WA",
                "ship_postal_code": f"98{i % 1000:03d}",
                "ship_country": "US",
                "purchase_date": BASE + timedelta(days=origin, minutes=i),
                "last_updated_date": start + timedelta(seconds=37 * i),
            }
        )
    prov = Provenance(
        account_id=f"A{account:02d}",
        report_id=f"R{account:02d}{day}",
        source_key=f"raw/A{account:02d}/R{day}",
        ingested_at=datetime(2026, 11, 1, tzinfo=UTC),
        data_start=start,
        data_end=start + timedelta(days=1),
        marketplace_id=US,
    )
    return pa.Table.from_pylist(rows, schema=SPEC.schema), prov


def contents(lake: CuratedLake) -> list[dict[str, Any]]:
    return sorted(lake.table(SPEC.name).scan().to_arrow().to_pylist(), key=lambda r: r["row_key"])


def main() -> dict[str, Any]:
    rng = random.Random(7)
    docs = [document(rng, a, d) for d in range(DAYS) for a in range(ACCOUNTS)]
    timings: dict[str, float] = {}
    tables = {}
    with tempfile.TemporaryDirectory(prefix="splake-gc-bench-") as tmp:
        for mode in ("one_by_one", "grouped"):
            lake = CuratedLake(open_local_catalog(Path(tmp) / mode), "spapi")
            t0 = time.perf_counter()
            staged = [lake.stage(SPEC, data, prov) for data, prov in docs]
            timings[f"{mode}_stage_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            if mode == "one_by_one":
                for s in staged:
                    lake.commit_staged(SPEC.name, [s])
            else:
                lake.commit_staged(SPEC.name, staged)
            timings[f"{mode}_commit_s"] = time.perf_counter() - t0
            tables[mode] = contents(lake)
    same = tables["one_by_one"] == tables["grouped"]
    ratio = timings["grouped_commit_s"] / timings["one_by_one_commit_s"]
    result = {
        "documents": len(docs),
        "rows_per_document": ROWS,
        "live_rows": len(tables["grouped"]),
        "one_by_one_commit_s": round(timings["one_by_one_commit_s"], 2),
        "grouped_commit_s": round(timings["grouped_commit_s"], 2),
        "stage_s": round(timings["grouped_stage_s"], 2),
        "grouped_vs_one_by_one": round(ratio, 3),
        "tables_equal": same,
    }
    print(
        f"{len(docs)} documents x {ROWS} rows: one commit per document "
        f"{timings['one_by_one_commit_s']:.2f} s, one group commit "
        f"{timings['grouped_commit_s']:.2f} s ({ratio:.3f}x; staging "
        f"{timings['grouped_stage_s']:.2f} s); tables equal: {same}"
    )
    if not same:
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
