"""Rows and documents of the sandbox's catalog report types (flat files, XML and JSON), deterministic
functions of (seed, account, marketplace, window, as_of) like the core types."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.catalog_layouts import FLAT_LAYOUTS, FlatLayout
from splake.sandbox.names import CITIES
from splake.sandbox.orders import FULFILLMENT_CENTERS
from splake.sandbox.render_orders import orders_report_rows
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import country_of, daterange, iso, money, sales_channel
from splake.spapi.marketplaces import marketplace

Json = dict[str, Any]


def _rng(req: ReportRequest, *parts: object) -> random.Random:
    return random.Random(
        "|".join(str(p) for p in (req.seed, req.report_type, req.account.account_id, *parts))
    )


def _uid(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:12].upper()


def _products(req: ReportRequest, fba_only: bool) -> list[Product]:
    out = [
        p
        for p in products_for(req.seed, req.account, min(req.scale, 4.0))
        if p.open_date <= req.as_of and (not fba_only or p.fulfillment == "AFN")
    ]
    return out


def _fnsku(p: Product) -> str:
    return p.fnsku or ("X00" + p.asin[2:9])


class _Row:
    """Context for one generated row: product, time, marketplace."""

    def __init__(self, req: ReportRequest, p: Product, t: datetime, rng: random.Random, key: str) -> None:
        self.req, self.p, self.t, self.rng, self.key = req, p, t, rng, key
        self.mid = req.marketplace_ids[0]
        self.country = country_of(self.mid)
        self.currency = marketplace(self.mid).currency

    def value(self, header: str, kind: str) -> str:
        r, p = self.rng, self.p
        if kind.startswith("lit:"):
            return kind[4:]
        if kind.startswith("enum:"):
            return r.choice(kind[5:].split(","))
        if kind == "text":
            return r.choice(("alpha", "bravo", "charlie", "delta"))
        if kind == "empty":
            return ""
        if kind == "sku":
            return p.sku
        if kind == "asin":
            return p.asin
        if kind == "fnsku":
            return _fnsku(p)
        if kind == "title":
            return p.title(language_of(self.mid))
        if kind == "cur":
            return self.currency
        if kind == "country":
            return self.country
        if kind == "fc":
            return r.choice(FULFILLMENT_CENTERS.get(self.country, ("XXX1",)))
        if kind == "city":
            return r.choice(CITIES.get(self.country, CITIES["US"]))[0]
        if kind == "postal":
            return f"{r.randrange(10000, 99999)}"
        if kind == "channel":
            return sales_channel(self.mid)
        if kind == "ts":
            return iso(self.t)
        if kind == "date":
            return self.t.date().isoformat()
        if kind == "month":
            return self.t.strftime("%Y-%m")
        if kind == "mdy":
            return self.t.strftime("%m/%d/%y")
        if kind == "int":
            return str(r.randint(0, 60))
        if kind == "int1":
            return str(r.randint(1, 4))
        if kind == "sint":
            return str(r.randint(-12, 12))
        if kind == "money":
            return money(p.price(self.currency) * r.uniform(0.05, 1.0), self.currency)
        if kind == "float":
            return f"{r.uniform(0.1, 20.0):.2f}"
        if kind == "yn":
            return r.choice(("Y", "N"))
        if kind == "tf":
            return r.choice(("true", "false"))
        if kind == "id":
            return _uid(self.req.report_type, self.req.account.account_id, self.mid, self.key, header)
        if kind == "oid":
            n = int(_uid("oid", self.req.account.account_id, self.mid, self.key), 16)
            return f"{111 + n % 3}-{n % 10**7:07d}-{(n // 10**7) % 10**7:07d}"
        if kind == "email":
            return f"{_uid('rater', self.key).lower()}@marketplace.amazon.com"
        raise ValueError(f"unknown sandbox column kind {kind!r} ({header})")


def _row(layout: FlatLayout, ctx: _Row) -> dict[str, str]:
    return {h: ctx.value(h, k) for h, k in layout.columns}


def _day_times(req: ReportRequest) -> Iterator[tuple[date, datetime, datetime]]:
    """(day, first instant, last instant) of each day of the window, clipped to the window and as_of."""
    end = min(req.end, req.as_of)
    for d in daterange(req.start.date(), end.date()):
        lo = max(req.start, datetime(d.year, d.month, d.day, tzinfo=UTC))
        hi = min(end, datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=UTC))
        if lo <= hi:
            yield d, lo, hi


def flat_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    layout = FLAT_LAYOUTS[req.report_type]
    if layout.source == "orders":
        for row in orders_report_rows(req, by_last_update=False):
            yield {h: (row.get(k[2:], "") if k.startswith("o:") else k[4:]) for h, k in layout.columns}
        return
    products = _products(req, layout.fba_only)
    if not products:
        return
    mid = req.marketplace_ids[0]
    if layout.source == "snapshot":
        n = min(len(products), max(1, int(layout.per * min(req.scale, 4.0))))
        for p in products[:n]:
            rng = _rng(req, mid, p.sku, req.as_of.date())
            t = req.as_of - timedelta(hours=rng.randint(1, 240))
            yield _row(layout, _Row(req, p, t, rng, f"{p.sku}|{req.as_of.date()}"))
        return
    if layout.source == "months":
        months: dict[str, tuple[datetime, datetime]] = {}
        for d, lo, _hi in _day_times(req):
            months.setdefault(d.strftime("%Y-%m"), (lo, lo))
        for month, (lo, _) in months.items():
            rng = _rng(req, mid, month)
            for p in rng.sample(products, min(len(products), layout.per)):
                yield _row(layout, _Row(req, p, lo, _rng(req, mid, month, p.sku), f"{month}|{p.sku}"))
        return
    for d, lo, hi in _day_times(req):
        rng = _rng(req, mid, d)
        span = int((hi - lo).total_seconds())
        for i, p in enumerate(rng.sample(products, min(len(products), layout.per))):
            t = lo + timedelta(seconds=(span * (i + 1)) // (layout.per + 1))
            yield _row(layout, _Row(req, p, t, _rng(req, mid, d, p.sku), f"{d}|{p.sku}"))
