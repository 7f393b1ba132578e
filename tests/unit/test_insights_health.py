"""Pipeline health from real ledger entries (written with the reports engineer's ledger transitions into
a real SQLite state store) and lake row counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from splake.insights.health import TableRows, lake_row_counts, read_ledger, summarize
from splake.insights.source import DuckDBSource
from splake.reports import ledger
from splake.reports.planner import Window, WorkUnit
from splake.state.sqlite import SqliteStateStore

T0 = datetime(2026, 10, 10, 8, 0, tzinfo=UTC)
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
MYI = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"


def unit(acct, rtype, start, end):
    return WorkUnit(acct, rtype, ("ATVPDKIKX0DER",), Window(start, end))


def build_ledger(store):
    d = timedelta(days=1)
    # two landed order windows, one FATAL, one in progress
    e1 = ledger.new_entry(unit("seller-na", ORDERS, T0 - 3 * d, T0 - 2 * d))
    e1 = ledger.on_report_obtained(e1, "R1", "IN_QUEUE", T0, reused=False)
    e1 = ledger.on_status(e1, "R1", "DONE", "D1", T0 + timedelta(minutes=2), cooldown=timedelta(minutes=30))
    e1 = ledger.on_ingested(e1, T0 + timedelta(minutes=3), rows=120, quarantined=1, raw_key="raw/x")
    e2 = ledger.new_entry(unit("seller-na", ORDERS, T0 - 2 * d, T0 - d))
    e2 = ledger.on_report_obtained(e2, "R2", "IN_QUEUE", T0, reused=False)
    e2 = ledger.on_status(e2, "R2", "DONE", "D2", T0 + timedelta(minutes=4), cooldown=timedelta(minutes=30))
    e2 = ledger.on_ingested(e2, T0 + timedelta(minutes=5), rows=80, quarantined=0, raw_key="raw/y")
    e3 = ledger.new_entry(unit("seller-na", MYI, None, T0))
    e3 = ledger.on_report_obtained(e3, "R3", "IN_PROGRESS", T0, reused=False)
    e3 = ledger.on_status(e3, "R3", "FATAL", None, T0 + timedelta(minutes=6), cooldown=timedelta(minutes=30))
    e4 = ledger.new_entry(unit("seller-eu", ORDERS, T0 - d, T0))
    e4 = ledger.on_report_obtained(e4, "R4", "IN_PROGRESS", T0 + timedelta(minutes=1), reused=True)
    for e in (e1, e2, e3, e4):
        ledger.save(store, e)


def test_summary_from_a_real_ledger(tmp_path):
    store = SqliteStateStore(tmp_path / "state.db")
    build_ledger(store)
    con = duckdb.connect()
    con.register("orders_by_last_update", pa.table({"account_id": ["seller-na"] * 3 + ["seller-eu"]}))
    tables = lake_row_counts(DuckDBSource(con))
    assert tables == [TableRows("orders_by_last_update", 4, {"seller-eu": 1, "seller-na": 3})]

    now = T0 + timedelta(hours=2)
    h = summarize(read_ledger(store), tables, now, throttled={("seller-na", ORDERS): 3})
    assert h["summary"]["entries"] == 4
    assert h["summary"]["states"] == {"FATAL": 1, "INGESTED": 2, "IN_PROGRESS": 1}
    assert h["summary"]["rows_landed"] == 200
    assert h["summary"]["throttled"] == 3
    rows = {(r["account_id"], r["report_type"]): r for r in h["rows"]}
    na = rows[("seller-na", ORDERS)]
    assert na["rows_landed"] == 200 and na["quarantined"] == 1 and na["throttled"] == 3
    assert na["last_state"] == "INGESTED"
    assert na["data_end"] == "2026-10-09T08:00:00Z"
    assert na["lag_hours"] == 26.0  # now (Oct 10 10:00) - data end (Oct 9 08:00)
    assert rows[("seller-eu", ORDERS)]["last_state"] == "IN_PROGRESS"
    assert rows[("seller-eu", ORDERS)]["lag_hours"] is None
    assert len(h["failures"]) == 1
    f = h["failures"][0]
    assert f["state"] == "FATAL" and f["report_id"] == "R3" and "FATAL" in f["reason"]
    assert f["report_type"] == MYI
    store.close()
