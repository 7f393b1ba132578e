"""Values as Amazon writes them in report documents: timestamps, money, local dates, sales channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from splake.spapi.marketplaces import marketplace


def iso(dt: datetime) -> str:
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.replace(microsecond=0).isoformat()


def money(value: float, currency: str, comma: bool = False) -> str:
    text = f"{value:.0f}" if currency == "JPY" else f"{value:.2f}"
    return text.replace(".", ",") if comma else text


def local_datetime(dt: datetime, country: str) -> str:
    """Seller Central style local timestamps (open-date, settlement dates)."""
    summer = 4 <= dt.month <= 10
    if country in {"US", "CA"}:
        off, tz = (-7, "PDT") if summer else (-8, "PST")
        return (dt + timedelta(hours=off)).strftime("%Y-%m-%d %H:%M:%S ") + tz
    if country == "JP":
        return (dt + timedelta(hours=9)).strftime("%Y/%m/%d %H:%M:%S JST")
    if country == "GB":
        off, tz = (1, "BST") if summer else (0, "GMT")
        return (dt + timedelta(hours=off)).strftime("%d/%m/%Y %H:%M:%S ") + tz
    if country == "DE":
        off, tz = (2, "MESZ") if summer else (1, "MEZ")
        return (dt + timedelta(hours=off)).strftime("%d.%m.%Y %H:%M:%S ") + tz
    off, tz = (2, "CEST") if summer else (1, "CET")
    return (dt + timedelta(hours=off)).strftime("%d/%m/%Y %H:%M:%S ") + tz


def country_of(marketplace_id: str) -> str:
    code = marketplace(marketplace_id).code
    return "GB" if code == "UK" else code


def sales_channel(marketplace_id: str) -> str:
    host = marketplace(marketplace_id).domain.removeprefix("www.")
    return host[0].upper() + host[1:]


def daterange(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def amount(value: float, currency: str) -> dict[str, Any]:
    return {"amount": round(value, 2), "currencyCode": currency}
