"""Sandbox realism (issue 10): today's order layout in EU/JP, German zone words on DE listings, documents
served without a charset / with a BOM / with CRLF, the V1 settlement layout — and splake landing them: the
curated rows equal the sandbox's ground truth, and the layout differences show in `splake reports drift`.

Expectations are read from the served bytes with the standard library (csv, own zone table), never from
splake's parser."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import Settings, dump_config
from splake.insights.wiring import open_insights
from splake.reports.drift import drift_report
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer, World
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from splake.sandbox.reports_render import render

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
V1 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
US, CA, DE, GB, FR, JP = (
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1PA6795UKMFR9",
    "A1F83G8C2ARO7P",
    "A13V1IB3VIYZZH",
    "A1VC38T7YXB528",
)
NOW = datetime.now(UTC).replace(microsecond=0)


def _doc(world: World, rtype: str, account: str, mid: str, start: datetime, end: datetime) -> Any:
    spid = world.account(account).selling_partner_id
    return render(world.report_request(rtype, spid, [mid], start, end, {}, as_of=NOW))


def _header(body: bytes, codec: str) -> list[str]:
    return body.decode(codec).lstrip("\ufeff").split("\n", 1)[0].rstrip("\r").split("\t")


def test_order_layouts_differ_by_marketplace() -> None:
    w = World(seed=5)
    eu = _doc(w, ORDERS, "seller-eu", DE, NOW - timedelta(days=5), NOW)
    jp = _doc(w, ORDERS, "seller-jp", JP, NOW - timedelta(days=5), NOW)
    us = _doc(w, ORDERS, "seller-na", US, NOW - timedelta(days=5), NOW)
    h_eu, h_jp, h_us = _header(eu.body, "cp1252"), _header(jp.body, "cp932"), _header(us.body, "cp1252")
    assert len(h_eu) > 60 and {
        "vat-exclusive-item-price",
        "number-of-items",
        "is-iba",
        "customized-url",
    } <= set(h_eu)
    assert sum(h.startswith("is-") for h in h_eu) >= 8
    assert "url" not in h_jp and "is-business-order" not in h_jp and "number-of-items" in h_jp
    assert len(h_us) == 32 and "number-of-items" not in h_us  # the classic layout stays in NA


def test_listing_and_settlement_documents_as_amazon_serves_them() -> None:
    w = World(seed=5)
    de = _doc(w, LISTINGS, "seller-eu", DE, NOW, NOW)
    text = de.body.decode("cp1252")
    assert re.search(r"\t\d\d/\d\d/\d{4} \d\d:\d\d:\d\d (MET|MEST)\t", text)  # German zone words
    fr = _doc(w, LISTINGS, "seller-eu", FR, NOW, NOW)
    assert fr.content_type == "text/plain"  # no charset at all
    assert fr.body.decode("utf-8").count("\r\n") == fr.body.count(b"\n")  # CRLF line ends
    ca = _doc(w, LISTINGS, "seller-na", CA, NOW, NOW)
    assert ca.content_type == "text/plain;charset=utf-8" and ca.body.startswith(b"\xef\xbb\xbf")
    (period, *_) = [
        p for p in w.settlements(w.account("seller-eu").selling_partner_id, NOW - timedelta(days=40), NOW)
    ]
    v1 = _doc(w, V1, "seller-eu", period.marketplace_id, period.start, period.end)
    assert v1.content_type == "text/plain"
    assert _header(v1.body, "utf-8")[-3:] == ["direct-payment-type", "direct-payment-amount", "other-amount"]


# --- landing them -------------------------------------------------------------------------------------

ZONES = {"MET": 1, "MEST": 2, "CET": 1, "CEST": 2}


def _instant(text: str) -> datetime:
    m = re.fullmatch(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d) (\w+)", text)
    assert m, text
    d, mo, y, hh, mm, ss, zone = m.groups()
    local = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss), tzinfo=UTC)
    return local - timedelta(hours=ZONES[zone])


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("realism")
    with SandboxServer(SandboxConfig(seed=5, time_scale=0.005)) as sb:
        base = demo_settings(
            sb.url, root, ("seller-eu",), world=sb.world, start_date=(NOW - timedelta(days=2)).date()
        )
        accounts = tuple(
            a.model_copy(update={"report_types": (ORDERS, LISTINGS), "marketplaces": (DE, FR)})
            for a in base.accounts
        )
        s: Settings = base.model_copy(update={"accounts": accounts})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def go():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        summary = asyncio.run(go())
        ctx = LocalContext.open(s)
        yield s, summary, ctx
        ctx.state.close()  # type: ignore[attr-defined]


def _sql(ctx: Any, q: str) -> list[dict[str, Any]]:
    engine = ctx.query_engine()
    try:
        return engine.sql(q).to_pylist()
    finally:
        engine.close()


def test_de_and_fr_listings_land_with_their_dates_and_text(landed: Any) -> None:
    _s, summary, ctx = landed
    assert summary.failures == [] and summary.exit_code == 0
    rows = _sql(
        ctx, "select marketplace_id, seller_sku, item_name, open_date, report_id from merchant_listings"
    )
    by_market: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_market.setdefault(r["marketplace_id"], {})[r["seller_sku"]] = r
    raw = {r["marketplace_id"]: r["report_id"] for r in rows}
    for mid, codec in ((DE, "cp1252"), (FR, "utf-8")):
        # the document that landed, as stored in the raw zone (bytes as received)
        doc = next(d for d in ctx.raw.iter_documents("raw/reports/") if d.meta.get("report_id") == raw[mid])
        text = doc.open_decoded().read().decode(codec).lstrip("\ufeff")
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
        header, data = lines[0], [row for row in lines[1:] if row]
        sku, name, opened = header.index("seller-sku"), header.index("item-name"), header.index("open-date")
        assert len(by_market[mid]) == len(data) > 0
        for row in data:
            got = by_market[mid][row[sku]]
            assert got["item_name"] == row[name]  # byte-equal after decoding: no mojibake
            assert got["open_date"] == _instant(row[opened])
    assert any("é" in r["item_name"] or "è" in r["item_name"] for r in by_market[FR].values())


def test_layout_drift_lists_the_eu_order_layout(landed: Any) -> None:
    s, _summary, ctx = landed
    items = {(d.report_type, d.kind, d.column): d for d in drift_report(ctx.state)}
    # the EU layout has no cpf / signature-confirmation-recommended (declared for other marketplaces)
    absent = items.get((ORDERS, "absent", "cpf"))
    assert absent is not None and set(absent.marketplaces) <= {DE, FR} and absent.documents >= 1
    assert (ORDERS, "absent", "vat-exclusive-item-price") not in items
    cfg = Path(s.lake.path) / "splake.toml"
    cfg.write_text(dump_config(s))
    out = CliRunner().invoke(app, ["reports", "drift", "-c", str(cfg), "--json"])
    assert out.exit_code == 0, out.output
    listed = [json.loads(line) for line in out.output.splitlines() if line.strip()]
    assert {"report_type": ORDERS, "kind": "absent", "column": "cpf"}.items() <= next(
        d for d in listed if d["column"] == "cpf"
    ).items()
    status = CliRunner().invoke(app, ["reports", "status", "-c", str(cfg)])
    assert "layout drift" in status.output
    # the dashboard's pipeline health carries the same list
    insights, close = open_insights(s)
    try:
        health = insights.health()
    finally:
        close()
    assert any(d["column"] == "cpf" and d["kind"] == "absent" for d in health["drift"])
