"""End to end: `splake serve` on a demo lake, driven by headless Chromium (Debian's `chromium`, installed by
.ci/run). The page's JavaScript draws the charts and writes the totals it drew into the DOM
(``data-total``); the test compares them with sums computed here, independently, from the raw zone
documents (csv/json modules, no marts, no DuckDB). Screenshots go to the test's output directory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from splake.lake.objectstore import LocalObjectStore
from splake.lake.raw import RawZone

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Locally a missing chromium skips; in CI (.ci/run sets SPLAKE_CI and installs it) it must run.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("SPLAKE_CI"),
    reason="needs Debian's chromium (apt-get install chromium)",
)

ORDERS_BY_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SALES_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
TOKEN = "e2e-dashboard-token-0123456789abcdef"
DEMO_ACCOUNTS = ("seller-na", "seller-jp")


# --- the demo lake -------------------------------------------------------------------------------------


def _mini_lake(root: Path) -> Path:
    """A small lake built with the lake + reports APIs, with a FATAL report in its ledger."""
    from splake.lake.catalog import open_local_catalog
    from splake.lake.iceberg import CuratedLake
    from splake.lake.tables import Provenance, ReplaceScope
    from splake.reports import ledger
    from splake.reports.parse import iter_document
    from splake.reports.planner import Window, WorkUnit
    from splake.reports.typed import table_spec
    from splake.reports.types import REPORT_TYPES
    from splake.state.sqlite import SqliteStateStore

    spec = REPORT_TYPES[ORDERS_BY_UPDATE]
    header = [c.source for c in spec.columns]
    raw = RawZone(LocalObjectStore(root))
    lake = CuratedLake(open_local_catalog(root), "spapi")
    state = SqliteStateStore(root / "state.db")
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    accounts = {"seller-na": ("ATVPDKIKX0DER", "USD"), "seller-eu": ("A1PA6795UKMFR9", "EUR")}
    for n, (acct, (mkt, cur)) in enumerate(accounts.items()):
        for day in range(3):
            start = t0 + timedelta(days=day)
            lines = ["\t".join(header)]
            for i in range(5 + day + n):
                row = dict.fromkeys(header, "")
                row.update(
                    {
                        "amazon-order-id": f"{100 + n}-{day}-{i}",
                        "purchase-date": (start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                        "last-updated-date": (start + timedelta(hours=i + 1)).strftime(
                            "%Y-%m-%dT%H:%M:%S+00:00"
                        ),
                        "order-status": "Cancelled" if i == 3 else "Shipped",
                        "item-status": "Cancelled" if i == 3 else "Shipped",
                        "sku": f"SKU-{i % 3}",
                        "asin": f"B00000000{i % 3}",
                        "quantity": str(1 + i % 4),
                        "currency": cur,
                        "item-price": f"{(1 + i % 4) * 12.5:.2f}",
                    }
                )
                lines.append("\t".join(row[h] for h in header))
            path = root / "tmp.tsv"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            rid = f"R{n}{day}"
            unit = WorkUnit(acct, ORDERS_BY_UPDATE, (mkt,), Window(start, start + timedelta(days=1)))
            ref = raw.put_document(
                acct,
                "reports",
                rid,
                path,
                {
                    "report_type": ORDERS_BY_UPDATE,
                    "report_id": rid,
                    "marketplace_ids": [mkt],
                    "data_start": start.isoformat(),
                    "content_type": "text/tab-separated-values; charset=UTF-8",
                    "charset": "UTF-8",
                    "format": "tsv",
                },
            )
            prov = Provenance(
                acct, rid, ref.key, start + timedelta(days=1), start, start + timedelta(days=1), mkt, (mkt,)
            )
            batches = [b for chunk in iter_document(path, spec) for b in chunk.table.to_batches()]
            res = lake.write(table_spec(spec), batches, prov, ReplaceScope())
            e = ledger.new_entry(unit)
            e = ledger.on_report_obtained(
                e, rid, "DONE", start + timedelta(days=1), reused=False, document_id="D" + rid
            )
            e = ledger.on_ingested(
                e, start + timedelta(days=1), rows=res.rows_written, quarantined=0, raw_key=ref.key
            )
            ledger.save(state, e)
    fatal = ledger.new_entry(
        WorkUnit("seller-na", "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", ("ATVPDKIKX0DER",), Window(None, t0))
    )
    fatal = ledger.on_report_obtained(fatal, "RF", "IN_PROGRESS", t0, reused=False)
    fatal = ledger.on_status(fatal, "RF", "FATAL", None, t0, cooldown=timedelta(minutes=30))
    ledger.save(state, fatal)
    state.close()
    (root / "tmp.tsv").unlink()
    config = root / "splake.toml"
    config.write_text(
        f'[lake]\npath = "{root}"\nnamespace = "spapi"\n'
        '[lwa]\nclient_id = "amzn1.application-oa2-client.e2e"\n'
        '[[accounts]]\nid = "seller-na"\nregion = "NA"\nselling_partner_id = "A1E2E"\n'
        'marketplaces = ["US"]\n'
        '[[accounts]]\nid = "seller-eu"\nregion = "EU"\nselling_partner_id = "A2E2E"\n'
        'marketplaces = ["DE"]\n',
        encoding="utf-8",
    )
    return config


def _demo_lake(root: Path) -> Path:
    """Run the demo (sandbox -> sync -> lake) once; returns its config path."""
    from rich.console import Console

    from splake.runners.demo import run_demo

    # two accounts keep the run short: seller-na (USD + CAD) and seller-jp (JPY, Shift_JIS documents)
    code = run_demo(root, accounts=DEMO_ACCOUNTS, console=Console(file=io.StringIO(), width=120))
    assert code == 0, "splake demo failed"
    return root / "splake.toml"


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> tuple[Path, Path]:
    reuse = os.environ.get("SPLAKE_E2E_LAKE_CONFIG")  # an existing demo lake's splake.toml (local runs)
    config = Path(reuse) if reuse else _demo_lake(tmp_path_factory.mktemp("dashboard-lake"))
    from splake.config import load_config

    return config, Path(load_config(config).lake.path)


@pytest.fixture(scope="module")
def mini_lake(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mini-lake")
    return _mini_lake(root), root


# --- independent truth from the raw zone ---------------------------------------------------------------

_CODEC = {"shift_jis": "cp932", "windows-31j": "cp932", "sjis": "cp932", "iso-8859-1": "cp1252"}


def _text(doc: Any) -> str:
    with doc.open() as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    charset = str(doc.meta.get("charset") or "utf-8").lower()
    codec = _CODEC.get(charset, charset)
    codecs.lookup(codec)
    return data.decode(codec).lstrip("\ufeff")


def raw_order_totals(lake_root: Path) -> dict[str, float]:
    """units and sales|CUR of the latest version of every order line in the raw zone (cancelled
    excluded), computed with the csv module."""
    latest: dict[tuple[str, str, str, int], dict[str, str]] = {}
    for doc in RawZone(LocalObjectStore(lake_root)).iter_documents("raw/"):
        if doc.meta.get("report_type") != ORDERS_BY_UPDATE:
            continue
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for row in csv.DictReader(io.StringIO(_text(doc)), delimiter="\t", quoting=csv.QUOTE_NONE):
            k = (row["amazon-order-id"], row["sku"])
            key = (str(doc.meta["account_id"]), *k, seen[k])
            seen[k] += 1
            old = latest.get(key)
            if old is None or row["last-updated-date"] >= old["last-updated-date"]:
                latest[key] = row
    totals: dict[str, float] = defaultdict(float)
    for row in latest.values():
        if "Cancelled" in (row["order-status"], row["item-status"]):
            continue
        totals["units"] += int(row["quantity"] or 0)
        totals[f"sales|{row['currency']}"] += float(row["item-price"] or 0)
    return dict(totals)


SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


def _amount(text: str) -> float:
    """Settlement amounts: "1234.56" or, in EU documents, "1.234,56" / "-10,63"."""
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return float(text)


FEE_TYPES = ("ItemFees", "ShipmentFees", "OrderFees")


def raw_settlement_fees(lake_root: Path) -> dict[str, float] | None:
    """amount|CUR of the fee lines of every settlement document (currency from the summary line);
    a settlement found in several documents counts once per line."""
    lines: dict[tuple[str, ...], float] = {}
    found = False
    for doc in RawZone(LocalObjectStore(lake_root)).iter_documents("raw/"):
        if doc.meta.get("report_type") != SETTLEMENT:
            continue
        found = True
        rows = list(csv.DictReader(io.StringIO(_text(doc)), delimiter="\t", quoting=csv.QUOTE_NONE))
        currency = {r["settlement-id"]: r["currency"] for r in rows if r["currency"]}
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        for r in rows:
            is_fee = r["amount-type"] in FEE_TYPES or "fee" in r["amount-description"].lower()
            if not r["amount"] or not is_fee:
                continue
            ident = (
                str(doc.meta["account_id"]),
                *(
                    r[c]
                    for c in (
                        "settlement-id",
                        "order-id",
                        "adjustment-id",
                        "shipment-id",
                        "amount-type",
                        "amount-description",
                        "order-item-code",
                        "sku",
                        "posted-date-time",
                    )
                ),
            )
            key = (*ident, str(seen[ident]), currency.get(r["settlement-id"], ""))
            seen[ident] += 1
            lines[key] = _amount(r["amount"])
    if not found:
        return None
    out: dict[str, float] = defaultdict(float)
    for key, amount in lines.items():
        out[f"amount|{key[-1]}"] += amount
    return dict(out)


def raw_sessions_total(lake_root: Path) -> int | None:
    """Sum of salesAndTrafficByDate[].trafficByDate.sessions over the S&T documents (latest per day)."""
    per_day: dict[tuple[str, str, str], int] = {}
    found = False
    for doc in RawZone(LocalObjectStore(lake_root)).iter_documents("raw/"):
        if doc.meta.get("report_type") != SALES_TRAFFIC:
            continue
        found = True
        body = json.loads(_text(doc))
        mkts = ",".join(doc.meta.get("marketplace_ids") or [])
        for rec in body.get("salesAndTrafficByDate", []):
            per_day[(str(doc.meta["account_id"]), mkts, rec["date"])] = int(rec["trafficByDate"]["sessions"])
    return sum(per_day.values()) if found else None


# --- the server and the browser ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _splake() -> str:
    return str(Path(sys.executable).parent / "splake")


def start_serve(config: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SPLAKE_SERVE_TOKEN"}
    proc = subprocess.Popen(
        [_splake(), "serve", "--config", str(config), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    headers = {"authorization": f"Bearer {TOKEN}"}
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"splake serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", headers=headers, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "splake serve did not come up"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(demo_lake) -> Iterator[str]:
    proc, url = start_serve(demo_lake[0])
    yield url
    proc.terminate()
    proc.wait(10)


def output_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SPLAKE_E2E_OUTPUT", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def render(tmp: Path, url: str, screenshot: Path | None = None, height: int = 3000) -> str:
    """The DOM after the page's scripts ran (and a screenshot of it, same browser run)."""
    shot = [f"--screenshot={screenshot}", f"--window-size=1400,{height}"] if screenshot else []
    dom = chromium(tmp, *shot, "--dump-dom", url)
    if screenshot:
        assert screenshot.stat().st_size > 5_000
    return dom


def chromium(tmp: Path, *args: str) -> str:
    profile = tmp / f"chromium-profile-{time.monotonic_ns()}"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *args,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    shutil.rmtree(profile, ignore_errors=True)
    return res.stdout


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def parse_dom(html: str) -> list[tuple[str, dict[str, str]]]:
    p = _Dom()
    p.feed(html)
    return p.elements


def rendered_totals(elements: list[tuple[str, dict[str, str]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for _, a in elements:
        if "data-total" in a and a.get("data-mart") and a["data-total"] not in ("null", "undefined"):
            out[a["data-mart"]][a["data-key"]] = float(a["data-total"])
    return out


def body_state(elements: list[tuple[str, dict[str, str]]]) -> str | None:
    return next((a.get("data-rendered") for t, a in elements if t == "body"), None)


def _assert_matches_raw(totals: dict[str, float], truth: dict[str, float]) -> None:
    assert truth, "the raw zone holds order documents"
    for key, value in truth.items():
        assert totals.get(key) == pytest.approx(value, abs=0.005), key
    assert {k for k in totals if k == "units" or k.startswith("sales|")} == set(truth)


# --- the tests -----------------------------------------------------------------------------------------


def test_overview_charts_render_the_raw_zone_totals(server, demo_lake, tmp_path):
    dom = render(tmp_path, server + "/overview", output_dir(tmp_path) / "overview.png")
    els = parse_dom(dom)
    assert body_state(els) == "true", dom[-3000:]
    cards = {a["data-mart"]: a for t, a in els if t == "section" and "data-mart" in a}
    assert cards["daily_sales"]["data-state"] == "rendered"
    canvases = {a["id"]: a for t, a in els if t == "canvas"}
    assert canvases["chart-daily_sales"]["data-drawn"] == "true"
    assert int(canvases["chart-daily_sales"]["data-points"]) > 0
    totals = rendered_totals(els)
    _assert_matches_raw(totals["daily_sales"], raw_order_totals(demo_lake[1]))
    sessions = raw_sessions_total(demo_lake[1])
    if sessions is not None:
        assert totals["sessions_conversion"]["sessions"] == sessions
    fees = raw_settlement_fees(demo_lake[1])
    if fees is not None:
        drawn = {k: v for k, v in totals["settlement_fees"].items() if k.startswith("amount|")}
        assert drawn == pytest.approx(fees, abs=0.005)
    # marts whose tables were never synced say so instead of failing
    for name, card in cards.items():
        assert card["data-state"] in ("rendered", "unavailable"), name


@pytest.mark.slow
def test_filters_change_what_is_drawn(server, demo_lake, tmp_path):
    truth = raw_order_totals(demo_lake[1])
    api = httpx.get(server + "/api/filters").json()
    assert api["accounts"], "filter options come from the lake"
    acct = api["accounts"][0]
    els = parse_dom(chromium(tmp_path, "--dump-dom", f"{server}/overview?account={acct}"))
    assert body_state(els) == "true"
    totals = rendered_totals(els)["daily_sales"]
    expected = httpx.get(server + "/api/marts/daily_sales", params={"account": acct}).json()["totals"]
    assert totals == pytest.approx(expected)
    if len(api["accounts"]) > 1:
        assert 0 < totals["units"] < truth["units"]
    selected = [a for t, a in els if t == "option" and "selected" in a]
    assert any(a.get("value") == acct for a in selected)


def test_pipeline_health_page(server, demo_lake, tmp_path):
    els = parse_dom(render(tmp_path, server + "/", output_dir(tmp_path) / "health.png", height=1600))
    assert body_state(els) == "true"
    health = httpx.get(server + "/api/health").json()
    assert health["available"], health
    line = next(a for t, a in els if a.get("id") == "summary-line")
    assert int(line["data-rows-landed"]) == health["summary"]["rows_landed"] > 0
    sync_rows = [
        a for t, a in els if t == "tr" and "data-report-type" in a and "data-account" in a
    ]  # not drift rows
    assert {(a["data-account"], a["data-report-type"]) for a in sync_rows} == {
        (r["account_id"], r["report_type"]) for r in health["rows"]
    }
    failures = [a for t, a in els if t == "tr" and a.get("class") == "failure"]
    assert len(failures) == len(health["failures"])
    table_rows = {a["data-table"]: a for t, a in els if t == "tr" and "data-table" in a}
    assert "orders_by_last_update" in table_rows


@pytest.mark.slow
def test_token_protected_server_in_a_real_browser(demo_lake, tmp_path):
    proc, url = start_serve(demo_lake[0], "--token", TOKEN)
    try:
        denied = parse_dom(chromium(tmp_path, "--dump-dom", url + "/overview"))
        assert body_state(denied) is None  # the 401 JSON, not the page
        els = parse_dom(chromium(tmp_path, "--dump-dom", f"{url}/overview?token={TOKEN}"))
        assert body_state(els) == "true"  # the cookie set by ?token= authorizes the page's own fetches
        _assert_matches_raw(rendered_totals(els)["daily_sales"], raw_order_totals(demo_lake[1]))
    finally:
        proc.terminate()
        proc.wait(10)


def test_static_report_opens_offline_with_the_same_totals(demo_lake, tmp_path):
    out = output_dir(tmp_path) / "report.html"
    res = subprocess.run(
        [_splake(), "report", "--config", str(demo_lake[0]), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html
    els = parse_dom(render(tmp_path, out.as_uri(), out.with_suffix(".png")))
    assert body_state(els) == "true"
    _assert_matches_raw(rendered_totals(els)["daily_sales"], raw_order_totals(demo_lake[1]))


@pytest.mark.slow
def test_mart_export_matches_the_raw_zone(demo_lake, tmp_path):
    out = tmp_path / "daily_sales.jsonl"
    res = subprocess.run(
        [
            _splake(),
            "marts",
            "export",
            "daily_sales",
            "--config",
            str(demo_lake[0]),
            "-f",
            "json",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals["units"] += r["units"]
        totals[f"sales|{r['currency'] or ''}"] += float(r["sales"])  # (exact decimals export as strings)
    truth = raw_order_totals(demo_lake[1])
    assert dict(totals) == pytest.approx(truth, abs=0.01)


@pytest.mark.slow
def test_health_page_shows_fatal_reports_with_reasons(mini_lake, tmp_path):
    proc, url = start_serve(mini_lake[0])
    try:
        els = parse_dom(render(tmp_path, url + "/", output_dir(tmp_path) / "health-fatal.png", height=1200))
        assert body_state(els) == "true"
        failures = [a for t, a in els if t == "tr" and a.get("class") == "failure"]
        assert len(failures) == 1
        dom_text = render(tmp_path, url + "/")
        assert "Amazon ended the report FATAL without a reason" in dom_text
        assert "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA" in dom_text
        overview = parse_dom(render(tmp_path, url + "/overview"))
        _assert_matches_raw(rendered_totals(overview)["daily_sales"], raw_order_totals(mini_lake[1]))
    finally:
        proc.terminate()
        proc.wait(10)
