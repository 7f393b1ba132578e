"""Pure planning of item fetches: batches per call, time slices, minimum durations at a rate limit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# searchCatalogItems: identifiers ≤ 20 per call, one marketplace per call, pageSize ≤ 20.
CATALOG_BATCH = 20
CATALOG_INCLUDED_DATA = (
    "attributes",
    "dimensions",
    "identifiers",
    "images",
    "productTypes",
    "relationships",
    "salesRanks",
    "summaries",
)
LISTINGS_INCLUDED_DATA = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability")


@dataclass(frozen=True)
class CatalogBatch:
    marketplace_id: str
    identifiers_type: str  # "ASIN" | "SKU"
    identifiers: tuple[str, ...]


def catalog_batches(
    marketplace_id: str, identifiers: Iterable[str], identifiers_type: str = "ASIN", size: int = CATALOG_BATCH
) -> list[CatalogBatch]:
    if not 1 <= size <= CATALOG_BATCH:
        raise ValueError(f"batch size must be 1..{CATALOG_BATCH}")
    unique = sorted(set(identifiers))
    return [
        CatalogBatch(marketplace_id, identifiers_type, tuple(unique[i : i + size]))
        for i in range(0, len(unique), size)
    ]


def min_duration(calls: int, rate: float, burst: int) -> float:
    """Seconds a token bucket (rate r/s, full burst at start) needs to admit ``calls`` requests."""
    if calls <= burst:
        return 0.0
    return (calls - burst) / rate


@dataclass(frozen=True)
class Slice:
    start: datetime
    end: datetime


def time_slices(start: datetime, end: datetime, width: timedelta) -> list[Slice]:
    """Cut [start, end) into consecutive slices of at most ``width`` (the last may be shorter)."""
    out: list[Slice] = []
    cur = start
    while cur < end:
        nxt = min(cur + width, end)
        out.append(Slice(cur, nxt))
        cur = nxt
    return out


def clamp_before(now: datetime, end: datetime, margin: timedelta = timedelta(minutes=2)) -> datetime:
    """Orders/Finances reject *Before values closer than 2 minutes to now; clamp the window end."""
    return min(end, now - margin)
