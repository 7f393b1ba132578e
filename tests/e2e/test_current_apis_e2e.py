"""End to end through the CLI: `splake items sync --orders --transactions --data-kiosk --vendor-orders` on a
real config file against the sandbox lands orders (Orders 2026-01-01), transactions (Finances 2024-06-19),
Data Kiosk sales & traffic / economics and vendor purchase orders into their tables, with counts checked
against ground truth computed from the sandbox world."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import load_config
from splake.lake.catalog import open_catalog
from splake.lake.query import QueryEngine
from splake.runners.local import default_secrets_dir
from splake.sandbox.apis.vendor_orders import purchase_orders
from splake.sandbox.orders import iter_orders


def _config(sb, tmp_path: Path) -> Path:
    w = sb.world
    s, v = w.account("seller-na"), w.account("vendor-na")
    cfg = tmp_path / "splake.toml"
    cfg.write_text(
        f"""
[lake]
path = "{tmp_path / "lake"}"

[lwa]
client_id = "{w.client_id}"
token_url = "{sb.url}/auth/o2/token"

[spapi]
endpoint_override = "{sb.url}"

[sync]
lookback_days = 2
poll_initial_seconds = 0.02
poll_max_seconds = 0.1

[[accounts]]
id = "seller-na"
region = "NA"
selling_partner_id = "{s.selling_partner_id}"
marketplaces = ["US", "CA"]

[[accounts]]
id = "vendor-na"
type = "vendor"
region = "NA"
selling_partner_id = "{v.selling_partner_id}"
marketplaces = ["US"]
""",
        encoding="utf-8",
    )
    settings = load_config(cfg)
    secrets = LocalSecretStore(default_secrets_dir(settings))
    secrets.put(settings.lwa.client_secret_ref, w.client_secret)
    for acct in settings.accounts:
        secrets.put(acct.secret_ref, w.account(acct.id).refresh_token)
    return cfg


@pytest.mark.slow  # ~25 s; the per-API integration tests (test_items_*.py) are the default-run versions
def test_cli_syncs_current_apis_into_tables(sandbox, tmp_path: Path) -> None:
    cfg = _config(sandbox, tmp_path)
    started = datetime.now(UTC)
    r = CliRunner().invoke(
        app,
        [
            "items",
            "sync",
            "--no-catalog",
            "--orders",
            "--transactions",
            "--data-kiosk",
            "--vendor-orders",
            "-c",
            str(cfg),
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])["commerce"]
    seller, vendor = out["seller-na"], out["vendor-na"]
    assert seller["orders"]["api_version"] == "2026-01-01"

    # Ground truth from the world: the same windows the sync used (lookback 2 days, before = now - 2 min).
    w = sandbox.world
    acct = w.account("seller-na")
    lo, hi = started - timedelta(days=2, minutes=1), datetime.now(UTC)
    updated, shipped = set(), set()
    units: dict[tuple[str, str], int] = defaultdict(int)
    dk_lo, dk_hi = (started - timedelta(days=2)).date(), (started - timedelta(days=1)).date()
    for mp in acct.marketplace_ids:
        for o in iter_orders(w.seed, acct, mp, (lo - timedelta(days=45)).date(), hi.date(), w.scale):
            st = o.status_at(hi)
            if st is not None and lo <= st[2] <= hi:
                updated.add(o.order_id)
            if o.ship_at is not None and lo <= o.ship_at <= hi:
                shipped.add(o.order_id)
            cur = o.status_at(hi)
            if cur is not None and cur[0] != "Cancelled" and dk_lo <= o.purchase.date() <= dk_hi:
                units[(mp, o.purchase.date().isoformat())] += sum(i.quantity for i in o.items)

    settings = load_config(cfg)
    q = QueryEngine(open_catalog(settings), settings.lake.namespace)

    def n(sql: str) -> int:
        return int(q.sql(sql).to_pylist()[0]["n"])

    orders = n("select count(*) as n from orders_api")
    assert (
        orders
        == seller["orders"]["orders"]
        == n("select count(distinct amazon_order_id) as n from orders_api")
    )
    assert abs(orders - len(updated)) <= 2  # the window edges moved by a few seconds
    assert updated and orders > 20
    tx = n("select count(*) as n from financial_transactions")
    assert tx == seller["transactions"]["transactions"] and abs(tx - len(shipped)) <= 2
    assert n("select count(*) as n from financial_event_groups") == seller["transactions"]["event_groups"] > 0
    days = q.sql(
        "select marketplace_id as m, cast(start_date as varchar) as d, units_ordered as u "
        "from dk_sales_traffic_by_date"
    ).to_pylist()
    assert len(days) == 2 * 2 == seller["data_kiosk"]["sales_traffic_by_date"]
    assert all(r["u"] == units.get((r["m"], r["d"]), 0) for r in days)
    assert n("select sum(units_ordered) as n from dk_economics") == sum(units.values())
    va = w.account("vendor-na")
    pos = {
        po.number
        for po in purchase_orders(w.seed, va, "ATVPDKIKX0DER", (lo - timedelta(days=11)).date(), hi.date())
        if po.created <= hi and lo <= po.state_at(hi)[1] <= hi
    }
    got = n("select count(*) as n from vendor_purchase_orders")
    assert got == vendor["vendor_orders"]["purchase_orders"] and abs(got - len(pos)) <= 1 and got > 0
