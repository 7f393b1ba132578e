"""Assemble :class:`~splake.insights.service.Insights` for a config's local lake (embedded runner)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splake.config import Settings
from splake.insights.health import (
    THROTTLES_NAMESPACE,
    lake_row_counts,
    read_ledger,
    summarize,
    throttle_counts,
)
from splake.insights.marts import MARTS
from splake.insights.service import Insights
from splake.insights.source import LakeSource, SqlSource
from splake.reports.drift import drift_report


def state_path(settings: Settings) -> Path:
    """Where the embedded runner keeps its state store (ledger, cursors, registry)."""
    return Path(settings.lake.path).expanduser() / "state.db"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def open_insights(
    settings: Settings, *, clock: Callable[[], datetime] = _utcnow
) -> tuple[Insights, Callable[[], None]]:
    """Insights over the config's curated lake and ledger; returns it with a close function."""
    from splake.lake.catalog import open_catalog
    from splake.lake.damage import repair_hint
    from splake.lake.query import QueryEngine
    from splake.state.sqlite import SqliteStateStore

    engine = QueryEngine(open_catalog(settings), settings.lake.namespace)
    source = LakeSource(engine)
    closers: list[Callable[[], Any]] = [engine.close]
    spath = state_path(settings)
    stores: list[SqliteStateStore] = []
    lock = threading.Lock()

    def state() -> SqliteStateStore | None:
        # opened on first use, so a server started before the first sync picks the ledger up later
        with lock:
            if not stores and spath.exists():
                stores.append(SqliteStateStore(spath))
                closers.append(stores[0].close)
            return stores[0] if stores else None

    def health(src: SqlSource) -> dict[str, Any]:
        store = state()
        if store is None:
            return {"available": False, "error": f"no state store at {spath} yet (run `splake sync` first)"}
        throttled = throttle_counts(store.scan(THROTTLES_NAMESPACE))
        out = summarize(read_ledger(store), lake_row_counts(src), clock(), throttled=throttled)
        out["damaged_tables"] = [  # a damaged table fails only itself; the page names it and the fix
            {"table": t, "reason": why, "hint": repair_hint(t.removesuffix("__quarantine"))}
            for t, why in sorted(engine.damaged().items())
        ]
        out["drift"] = [d.to_json() for d in drift_report(store)]  # layout drift per report type
        return out

    def close() -> None:
        for fn in reversed(closers):
            fn()

    return Insights(source_factory=lambda: source, marts=MARTS, health_fn=health), close
