"""Registry decisions (pure) and its state-store adapter on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from splake.errors import BadDataError
from splake.items.registry import Registry, TrackedItem, items_from_listing_rows, merge, parse_item_file
from splake.state.sqlite import SqliteStateStore

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_listing_rows_accept_both_header_spellings() -> None:
    rows = [
        {"seller_sku": "A-1", "asin1": "B000000001", "marketplace_id": "M1"},
        {"sku": "A-2", "asin": "b000000002", "marketplace_id": "M1"},
        {"seller_sku": "A-3", "marketplace_id": "M1"},  # no ASIN
        {"seller_sku": None, "asin1": "B000000004", "marketplace_id": "M1"},  # no SKU: skipped
    ]
    items = {i.sort_key: i for i in items_from_listing_rows("acct", rows)}
    assert set(items) == {
        "sku#M1#A-1",
        "asin#M1#B000000001",
        "sku#M1#A-2",
        "asin#M1#B000000002",
        "sku#M1#A-3",
    }
    assert items["sku#M1#A-1"].asin == "B000000001"
    assert items["sku#M1#A-3"].asin is None


def test_parse_item_file_lines_and_csv() -> None:
    assert parse_item_file("# my list\nB07N4M94X4\nMY-SKU-1\n\n") == [
        ("asin", "B07N4M94X4"),
        ("sku", "MY-SKU-1"),
    ]
    assert parse_item_file("sku,asin\nS1,B07N4M94X4\nS2,\n") == [
        ("sku", "S1"),
        ("asin", "B07N4M94X4"),
        ("sku", "S2"),
    ]
    with pytest.raises(BadDataError):
        parse_item_file("asin\nnot-an-asin\n")


def test_merge_accumulates_sources_and_reports_no_change() -> None:
    item = TrackedItem("a", "M", "sku", "S", None, ("report",))
    first = merge(None, item, NOW)
    assert first is not None and first["sources"] == ["report"]
    assert merge({**first, "_version": 1}, item, NOW) is None
    second = merge({**first, "_version": 1}, TrackedItem("a", "M", "sku", "S", "B0X", ("user",)), NOW)
    assert second is not None and second["sources"] == ["report", "user"] and second["asin"] == "B0X"


def test_registry_on_sqlite(tmp_path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    reg = Registry(store)
    items = [
        TrackedItem("a", "M1", "sku", "S1", "B000000001", ("report",)),
        TrackedItem("a", "M1", "sku", "S2", None, ("user",)),
        TrackedItem("a", "M1", "asin", "B000000009", None, ("user",)),
        TrackedItem("a", "M2", "sku", "S1", None, ("user",)),
        TrackedItem("b", "M1", "sku", "OTHER", None, ("user",)),
    ]
    assert reg.add(items, NOW) == 5
    assert reg.add(items, NOW) == 0  # idempotent
    assert reg.skus("a", "M1") == ["S1", "S2"]
    assert reg.asins("a", "M1") == ["B000000001", "B000000009"]
    assert reg.asins("a", "M2") == []
    assert [i.value for i in reg.items("b")] == ["OTHER"]
    reg.remove(items[1])
    assert reg.skus("a", "M1") == ["S1"]
    store.close()
