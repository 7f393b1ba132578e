"""The dashboard app served by a real uvicorn on loopback: JSON endpoints, downloads, token checks on every
request, host checks, and the CLI's refusal to bind a public address without a token."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import uvicorn

from splake.insights.app import create_app
from splake.insights.marts import MARTS
from splake.insights.report import render_report
from splake.insights.runner import Filters
from splake.insights.security import check_bind
from splake.insights.service import Insights
from splake.insights.source import DuckDBSource
from splake.lake.tables import PROVENANCE_FIELDS
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES

TOKEN = "s3cret-token-for-tests-0123456789"


def _orders() -> pa.Table:
    spec = next(s for s in REPORT_TYPES.values() if s.table == "orders_by_last_update")
    schema = pa.schema(list(table_spec(spec).schema) + list(PROVENANCE_FIELDS))
    rows = []
    for i in range(10):
        rows.append(
            {
                "account_id": "seller-na" if i < 7 else "seller-eu",
                "marketplace_id": "ATVPDKIKX0DER" if i < 7 else "A1PA6795UKMFR9",
                "amazon_order_id": f"o{i}",
                "sku": f"SKU{i % 3}",
                "asin": f"B0{i % 3}",
                "quantity": i + 1,
                "item_price": Decimal(10 * (i + 1)),  # money columns are exact decimals
                "currency": "USD" if i < 7 else "EUR",
                "order_status": "Shipped",
                "purchase_date": datetime(2026, 10, 1 + i, 9, tzinfo=UTC),
            }
        )
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def _insights() -> Insights:
    orders = _orders()

    def factory() -> DuckDBSource:
        con = duckdb.connect()
        con.register("orders_by_last_update", orders)
        return DuckDBSource(con)

    return Insights(source_factory=factory, marts=MARTS, health_fn=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(5)


@pytest.fixture(scope="module")
def open_url():
    with serve(create_app(_insights(), allowed_hosts=["127.0.0.1", "localhost"])) as url:
        yield url


@pytest.fixture(scope="module")
def token_url():
    with serve(create_app(_insights(), token=TOKEN)) as url:
        yield url


def test_chart_json_and_unavailable_marts(open_url):
    r = httpx.get(open_url + "/api/marts/daily_sales")
    assert r.status_code == 200
    body = r.json()
    assert body["available"] is True
    assert body["totals"]["units"] == sum(range(1, 11))
    assert body["totals"]["sales|EUR"] == pytest.approx(270.0)
    r = httpx.get(open_url + "/api/marts/daily_sales", params={"account": "seller-eu", "end": "2026-10-09"})
    assert r.json()["totals"] == {"orders": 2, "sales|EUR": 170.0, "units": 17}
    both = httpx.get(open_url + "/api/marts/daily_sales?account=seller-eu&account=seller-na").json()
    assert both["totals"]["units"] == sum(range(1, 11))
    fees = httpx.get(open_url + "/api/marts/settlement_fees").json()
    assert fees["available"] is False and fees["missing_tables"] == ["settlements"]
    statuses = {m["name"]: m for m in httpx.get(open_url + "/api/marts").json()["marts"]}
    assert statuses["daily_sales"]["available"] and not statuses["vendor_sales_inventory"]["available"]
    opts = httpx.get(open_url + "/api/filters").json()
    assert opts == {
        "accounts": ["seller-eu", "seller-na"],
        "marketplaces": ["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
    }


def test_bad_filters_are_400(open_url):
    r = httpx.get(open_url + "/api/marts/daily_sales", params={"account": "x' or 1=1 --"})
    assert r.status_code == 400 and "account" in r.json()["error"]
    r = httpx.get(open_url + "/api/marts/nope")
    assert r.status_code == 400 and "daily_sales" in r.json()["hint"]


def test_downloads(open_url):
    r = httpx.get(open_url + "/api/marts/daily_sales/rows", params={"format": "csv", "account": "seller-na"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(int(x["units"]) for x in rows) == 28
    r = httpx.get(open_url + "/api/marts/daily_sales/rows", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(r.content)).num_rows == 10
    r = httpx.get(open_url + "/api/marts/daily_sales/rows", params={"format": "json"})
    assert len([json.loads(x) for x in r.text.splitlines()]) == 10
    r = httpx.get(open_url + "/api/marts/inventory_health/rows")
    assert r.status_code == 409 and "fba_myi_inventory" in r.json()["error"]


def test_pages_and_vendored_assets_served_locally(open_url):
    page = httpx.get(open_url + "/overview").text
    assert (
        "/static/vendor/chart.umd.min.js" in page
        and "http" not in page.split("<body")[1].split("</header>")[1]
    )
    js = httpx.get(open_url + "/static/vendor/chart.umd.min.js")
    assert js.status_code == 200 and "Chart.js v4" in js.text[:200]
    assert httpx.get(open_url + "/").status_code == 200


def test_dns_rebinding_host_rejected(open_url):
    r = httpx.get(open_url + "/api/marts", headers={"host": "attacker.example"})
    assert r.status_code == 400


def test_token_required_on_every_request(token_url):
    for path in ("/", "/overview", "/api/marts", "/api/marts/daily_sales", "/static/app.js", "/healthz"):
        assert httpx.get(token_url + path).status_code == 401, path
        assert httpx.get(token_url + path, headers={"authorization": "Bearer wrong"}).status_code == 401
    ok = httpx.get(token_url + "/api/marts/daily_sales", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["available"]
    # a page opened with ?token= sets an HttpOnly cookie that authorizes the page's own requests
    with httpx.Client(base_url=token_url) as c:
        first = c.get("/overview", params={"token": TOKEN})
        assert first.status_code == 200
        assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
        assert c.get("/api/filters").status_code == 200
        assert c.get("/static/vendor/chart.umd.min.js").status_code == 200
    assert httpx.get(token_url + "/api/filters", cookies={"splake_token": "nope"}).status_code == 401


def test_cookie_parsing_is_robust(token_url):
    # other apps' cookies on the same host are not RFC-clean; they must neither crash nor hide ours
    for junk in ("=====", "a[b]=1", "; ;", "bare", '"=x', "splake_token"):
        r = httpx.get(token_url + "/api/filters", headers={"cookie": junk})
        assert r.status_code == 401, junk
    for header in (
        f"a[b]=1; splake_token={TOKEN}",
        f"=====; splake_token={TOKEN}; x=y",
        f'splake_token="{TOKEN}"',
    ):
        r = httpx.get(token_url + "/api/filters", headers={"cookie": header})
        assert r.status_code == 200, header
    r = httpx.get(token_url + "/api/filters", headers={"cookie": "a[b]=1; splake_token=wrong-token-value"})
    assert r.status_code == 401


def test_bind_rules():
    from splake.errors import ConfigError

    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.com"):
        with pytest.raises(ConfigError) as exc:
            check_bind(host, None)
        assert "--token" in (exc.value.hint or "")
        check_bind(host, TOKEN)
    with pytest.raises(ConfigError):
        check_bind("0.0.0.0", "short")


def test_cli_refuses_public_bind_without_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SPLAKE_SERVE_TOKEN"}
    splake = Path(sys.executable).parent / "splake"
    res = subprocess.run(
        [str(splake), "serve", "--host", "0.0.0.0", "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 2
    assert "refusing to serve on 0.0.0.0" in res.stderr and "--token" in res.stderr


def test_static_report_is_self_contained():
    ins = _insights()
    html = render_report(ins.snapshot(), datetime(2026, 10, 20, tzinfo=UTC))
    assert "<script src=" not in html and "<link" not in html  # nothing fetched
    assert "Chart.js v4" in html
    assert html.count("</script>") == 4  # snapshot, chart.js, app.js, bootstrap; none leaks from inside
    start = html.index("window.SPLAKE_SNAPSHOT = ") + len("window.SPLAKE_SNAPSHOT = ")
    snap = json.loads(html[start : html.index(";</script>", start)])
    daily = next(m for m in snap["marts"] if m["name"] == "daily_sales")
    assert daily["totals"]["units"] == 55 and daily["totals"]["sales|USD"] == 280


def test_static_report_keeps_hostile_data_inside_the_json():
    evil = "</script><script>window.PWNED=1</script><!--"
    html = render_report({"marts": [], "options": {"accounts": [evil]}, "health": {}}, datetime.now(UTC))
    assert evil not in html
    start = html.index("window.SPLAKE_SNAPSHOT = ") + len("window.SPLAKE_SNAPSHOT = ")
    snap = json.loads(html[start : html.index(";</script>", start)])
    assert snap["options"]["accounts"] == [evil]


def test_a_drifted_table_marks_its_marts_failed_not_the_page():
    drifted = _orders().drop_columns(["quantity"])

    def factory() -> DuckDBSource:
        con = duckdb.connect()
        con.register("orders_by_last_update", drifted)
        return DuckDBSource(con)

    ins = Insights(source_factory=factory, marts=MARTS)
    chart = ins.chart("daily_sales", Filters())
    assert chart["available"] is False and "quantity" in chart["error"]
    snap = ins.snapshot()
    assert {m["name"] for m in snap["marts"]} == {m.name for m in MARTS}
