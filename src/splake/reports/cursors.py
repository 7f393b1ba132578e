"""Incremental cursors per (account, report type, marketplaces) on the StateStore namespace ``"cursors"``.

A cursor only moves forward, and only after the curated commit of the window that extends it
(:func:`splake.reports.planner.advance_cursor` decides; this module stores with ``expect_version``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from splake.errors import ConflictError
from splake.ports import StateStore
from splake.reports.planner import Window, advance_cursor, iso, parse_iso

NAMESPACE = "cursors"


def get_cursor(store: StateStore, account_id: str, stream: str) -> datetime | None:
    item = store.get(NAMESPACE, account_id, stream)
    return parse_iso(item.get("cursor")) if item else None


def load_cursors(store: StateStore, account_ids: Iterable[str]) -> dict[tuple[str, str], datetime | None]:
    out: dict[tuple[str, str], datetime | None] = {}
    for acct in account_ids:
        for item in store.query(NAMESPACE, acct):
            out[(acct, item["_sk"])] = parse_iso(item.get("cursor"))
    return out


def recently_moved(
    store: StateStore, account_ids: Iterable[str], now: datetime, within: timedelta
) -> frozenset[tuple[str, str]]:
    """Streams whose cursor moved less than ``within`` ago."""
    out = set()
    for acct in account_ids:
        for item in store.query(NAMESPACE, acct):
            moved = parse_iso(item.get("updated_at"))
            if moved is not None and now - moved < within:
                out.add((acct, str(item["_sk"])))
    return frozenset(out)


def advance(
    store: StateStore,
    account_id: str,
    stream: str,
    base: datetime | None,
    window: Window,
    *,
    now: datetime | None = None,
    retries: int = 8,
) -> datetime | None:
    """Move the stream's cursor past ``window`` when it extends the contiguous coverage; returns the
    stored cursor. Conditional write: concurrent advances never move it backwards."""
    for _ in range(retries):
        item = store.get(NAMESPACE, account_id, stream)
        current = parse_iso(item.get("cursor")) if item else None
        new = advance_cursor(current, base, window)
        if new == current:
            return current
        try:
            store.put(
                NAMESPACE,
                account_id,
                stream,
                {"cursor": iso(new), "window": window.label, "updated_at": iso(now or datetime.now(UTC))},
                expect_version=int(item["_version"]) if item else 0,
            )
            return new
        except ConflictError:
            continue
    raise ConflictError(
        f"cursor {account_id}/{stream} kept changing", hint="run one sync per account at a time"
    )
