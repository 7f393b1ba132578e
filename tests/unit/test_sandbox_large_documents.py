"""Large documents stream to disk in constant memory (benchmark-sized flat files)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from splake.sandbox import World


@pytest.mark.slow
def test_hundred_megabyte_orders_report_in_flat_memory(tmp_path: Path) -> None:
    w = World(scale=100)
    a = w.account("seller-na")
    as_of = datetime(2026, 11, 20, tzinfo=UTC)
    proc = psutil.Process()
    before = proc.memory_info().rss
    info = w.render_report_to(
        tmp_path / "big.gz",
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        a.selling_partner_id,
        a.marketplace_ids,
        as_of - timedelta(days=60),
        as_of,
        as_of=as_of,
    )
    grown = proc.memory_info().rss - before
    assert info.raw_bytes > 100_000_000 and info.rows > 400_000
    assert grown < 150_000_000, f"memory grew by {grown / 1e6:.0f} MB"
    with gzip.open(tmp_path / "big.gz", "rt", encoding="cp1252") as fh:
        assert sum(1 for _ in fh) == info.rows + 1
