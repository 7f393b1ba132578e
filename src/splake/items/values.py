"""Small value conversions shared by the item/API fetchers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def api_time(dt: datetime) -> str:
    """A timestamp as the SP-API takes it in query parameters: UTC, whole seconds, ``Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(money: Any) -> float | None:
    """``{"amount": "12.34", ...}`` → 12.34; None when absent or not a number."""
    try:
        return float(money["amount"]) if isinstance(money, dict) and money.get("amount") is not None else None
    except (TypeError, ValueError):
        return None
