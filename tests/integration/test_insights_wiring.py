"""open_insights on a real local lake: health before and after the first sync writes the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from splake.config import parse_config
from splake.insights.wiring import open_insights, state_path
from splake.reports import ledger
from splake.reports.planner import Window, WorkUnit
from splake.state.sqlite import SqliteStateStore


def test_health_appears_once_the_ledger_exists(tmp_path):
    settings = parse_config(
        {
            "lake": {"path": str(tmp_path)},
            "lwa": {"client_id": "x"},
            "accounts": [{"id": "acct", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]}],
        }
    )
    now = datetime(2026, 10, 2, tzinfo=UTC)
    insights, close = open_insights(settings, clock=lambda: now)
    try:
        before = insights.health()
        assert before["available"] is False and "splake sync" in before["error"]
        assert all(not s["available"] for s in insights.statuses())  # empty lake: every mart waits

        store = SqliteStateStore(state_path(settings))
        start = datetime(2026, 10, 1, tzinfo=UTC)
        e = ledger.new_entry(
            WorkUnit("acct", "GET_SALES_AND_TRAFFIC_REPORT", ("ATVPDKIKX0DER",), Window(start, now))
        )
        e = ledger.on_report_obtained(e, "R1", "CANCELLED", now, reused=False)
        e = ledger.on_status(e, "R1", "CANCELLED", None, now, cooldown=timedelta(minutes=30))
        ledger.save(store, e)
        store.put(
            "throttles",
            "acct",
            "GET_SALES_AND_TRAFFIC_REPORT",
            {"account_id": "acct", "report_type": "GET_SALES_AND_TRAFFIC_REPORT", "throttled": 4},
        )
        store.close()

        after = insights.health()
        assert after["available"] is True
        assert after["summary"]["entries"] == 1 and after["summary"]["throttled"] == 4
        assert after["rows"][0]["throttled"] == 4
        assert after["failures"][0]["state"] == "CANCELLED"
    finally:
        close()
