"""`splake lake check` verifies the row keys of API (items) tables too: catalog and listings items landed from
the sandbox (nested struct columns, fetch timestamps) pass with every key verified; a report-less table's
fix never points at `lake rebuild`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from splake.items.registry import Registry, TrackedItem
from splake.items.sync import sync_items
from splake.lake.check import check_lake
from splake.sandbox.catalog import products_for
from tests.integration.items_helpers import local_env

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
US = "ATVPDKIKX0DER"


@pytest.fixture
async def env(sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    e = local_env(sandbox, tmp_path)
    yield e
    await e.client.aclose()


async def test_items_tables_keys_verify(sandbox, env) -> None:  # type: ignore[no-untyped-def]
    acct = sandbox.world.account("seller-na")
    products = products_for(sandbox.world.seed, acct, sandbox.world.scale)[:30]
    reg = Registry(env.state)
    reg.add([TrackedItem("seller-na", US, "sku", p.sku, None, ("user",)) for p in products], NOW)
    await sync_items(env, clock=lambda: NOW)
    await sync_items(env, clock=lambda: NOW.replace(hour=13))  # a second fetch: history rows, latest replaced

    root = Path(env.settings.lake.path)
    result = check_lake(root, env.settings.lake.namespace, lambda: env.lake.catalog, None)
    tables = {t.table: t for t in result.tables}
    assert {"catalog_items", "catalog_items_history", "listings_items", "listings_items_history"} <= set(
        tables
    )
    for name in ("catalog_items", "catalog_items_history", "listings_items", "listings_items_history"):
        k = tables[name].keys
        assert k is not None and k.skipped is None and k.rows > 0 and k.wrong == 0, (name, k)
        assert tables[name].ok and not tables[name].report_table
    assert tables["catalog_items_history"].keys.rows == 2 * tables["catalog_items"].keys.rows  # type: ignore[union-attr]
    assert result.ok
