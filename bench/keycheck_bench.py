"""Row-key verification of `splake lake check` on a table of a few million rows.

Two lakes with one orders table of ``--rows`` order lines (``<n>`` / ``SKU-<n mod 1024>``, the near-equal keys
the 5bb07ed..148d46c repeat fingerprint collided on) are landed through ``CuratedLake.write``: one with the
current key code, one with the released buggy fingerprint (DuckDB ``hash()`` of the text). The check's time is
compared with a floor measured in the same run: one DuckDB query over the same Parquet files that hashes
every row's key text once (no escaping, no repeat handling). The check must find no wrong key in the clean
lake and exactly the buggy lake's bug-keyed rows (counted independently: keys not in the clean lake).
Merged into bench/results.json under "keycheck".

    .venv/bin/python -m bench keycheck
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from splake.lake import rowkeys
from splake.lake.catalog import open_local_catalog
from splake.lake.damage import load_checked
from splake.lake.iceberg import CuratedLake
from splake.lake.keycheck import check_table_keys
from splake.lake.location import local_file
from splake.lake.tables import Provenance
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES

SPEC = table_spec(REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"])
BUGGY_SQL = "SELECT sha256(t) AS k, hash(t) AS fp FROM batch"
ACCT, MARKET = "acct", "ATVPDKIKX0DER"


def _rows(n: int) -> Any:
    for start in range(0, n, 200_000):
        ids = [str(i) for i in range(start, min(n, start + 200_000))]
        yield pa.RecordBatch.from_pydict(
            {"amazon_order_id": ids, "sku": [f"SKU-{int(i) & 1023}" for i in ids]}
        )


def _land(root: Path, n: int, buggy: bool) -> None:
    fixed, small = rowkeys._KEYS_SQL, rowkeys.SMALL_BATCH
    if buggy:  # (every batch hashed by the buggy SQL, as then)
        rowkeys._KEYS_SQL, rowkeys.SMALL_BATCH = BUGGY_SQL, 0
    try:
        prov = Provenance(ACCT, "r1", "raw/r1", datetime.now(UTC), marketplace_id=MARKET)
        CuratedLake(open_local_catalog(root), "spapi").write(SPEC, _rows(n), prov)
    finally:
        rowkeys._KEYS_SQL, rowkeys.SMALL_BATCH = fixed, small


def _measure(root: Path) -> tuple[Any, float, float, set[str]]:
    tbl, uris = load_checked(open_local_catalog(root), "spapi", SPEC.name)
    files = ", ".join("'" + str(local_file(tbl.io, u)) + "'" for u in uris)
    con = duckdb.connect(config={"threads": 2})
    floor = float("inf")
    for _ in range(2):  # the best of two (the first also warms the page cache)
        t0 = time.perf_counter()
        con.execute(
            f"SELECT count(*) FROM read_parquet([{files}]) WHERE row_key <> sha256(account_id || chr(31) || "
            "marketplace_id || chr(31) || amazon_order_id || chr(31) || sku)"
        ).fetchall()
        floor = min(floor, time.perf_counter() - t0)
    keys = {r[0] for r in con.execute(f"SELECT row_key FROM read_parquet([{files}])").fetchall()}
    con.close()
    t0 = time.perf_counter()
    result = check_table_keys(tbl, uris, SPEC)
    return result, time.perf_counter() - t0, floor, keys


def main() -> dict[str, Any]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    n = ap.parse_args().rows
    out: dict[str, Any] = {"rows": n}
    with tempfile.TemporaryDirectory() as tmp:
        found: dict[str, Any] = {}
        for name in ("clean", "buggy"):
            root = Path(tmp) / name
            root.mkdir()
            _land(root, n, name == "buggy")
            found[name] = _measure(root)
        expected_bug = len(found["buggy"][3] - found["clean"][3])
        for name, (r, secs, floor, _) in found.items():
            print(
                f"{name}: {r.rows:,} rows checked in {secs:.2f} s ({r.rows / secs:,.0f} rows/s; "
                f"floor {floor:.2f} s, {secs / floor:.2f}x), wrong {r.wrong:,} "
                f"(bug-keyed {r.bug_keyed:,}, unproven {r.unproven})"
            )
            out[name] = {
                "check_s": round(secs, 2),
                "rows_per_s": round(r.rows / secs),
                "floor_s": round(floor, 2),
                "vs_floor": round(secs / floor, 2),
                "wrong": r.wrong,
            }
        out["buggy_rows_expected"] = expected_bug
        ok = (
            found["clean"][0].wrong == 0
            and found["buggy"][0].wrong == expected_bug == found["buggy"][0].bug_keyed
        )
        print(f"bug-keyed rows in the buggy lake: {expected_bug:,} (found all, nothing else: {ok})")
        if not ok:
            sys.exit(1)
    return out


if __name__ == "__main__":
    from bench.__main__ import merge_results

    merge_results("keycheck", main())
