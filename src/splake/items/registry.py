"""The item registry: which ASINs, SKUs and seller ids splake tracks per account and marketplace.

Stored on the :class:`~splake.ports.StateStore` namespace ``"registry"``: partition key = account id,
sort key = ``<kind>#<marketplace id>#<value>`` (kind ``asin`` / ``sku`` / ``seller``). Fed from three
sources, recorded on each entry: ``report`` (the curated listings report), ``user`` (``splake items add``)
and ``notification`` (listings notifications). Adding is idempotent; an entry remembers every source.

Decisions (what a listings row or a user file means) are pure functions; :class:`Registry` is the thin
adapter over the state store.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from splake.errors import BadDataError, ConflictError
from splake.ports import StateStore

NAMESPACE = "registry"
Kind = Literal["asin", "sku", "seller"]

_ASIN_RE = re.compile(r"^[A-Z0-9]{10}$")


@dataclass(frozen=True)
class TrackedItem:
    account_id: str
    marketplace_id: str
    kind: Kind
    value: str
    asin: str | None = None  # for SKUs: the ASIN the listing points at, when known
    sources: tuple[str, ...] = ()

    @property
    def sort_key(self) -> str:
        return f"{self.kind}#{self.marketplace_id}#{self.value}"


def normalize_asin(value: str) -> str:
    asin = value.strip().upper()
    if not _ASIN_RE.match(asin):
        raise BadDataError(
            f"{value!r} is not an ASIN",
            hint="an ASIN is 10 letters/digits, e.g. B07N4M94X4 (ISBN-10s are ASINs too)",
        )
    return asin


def items_from_listing_rows(account_id: str, rows: Iterable[Mapping[str, Any]]) -> list[TrackedItem]:
    """Registry entries for the rows of the curated GET_MERCHANT_LISTINGS_ALL_DATA table.

    Accepts the header spellings seen in real reports: ``seller_sku`` or ``sku``; ``asin1`` or ``asin``.
    Rows without a SKU or marketplace are skipped.
    """
    out: dict[str, TrackedItem] = {}
    for row in rows:
        sku = row.get("seller_sku") or row.get("sku")
        mp = row.get("marketplace_id")
        if not sku or not mp:
            continue
        asin = row.get("asin1") or row.get("asin") or None
        item = TrackedItem(account_id, str(mp), "sku", str(sku), str(asin) if asin else None, ("report",))
        out[item.sort_key] = item
        if asin:
            a = TrackedItem(account_id, str(mp), "asin", str(asin).upper(), None, ("report",))
            out[a.sort_key] = a
    return list(out.values())


def parse_item_file(text: str) -> list[tuple[Kind, str]]:
    """Read a user list: one identifier per line, or a CSV with an ``asin``/``sku``/``seller_sku`` column.

    Plain lines that look like ASINs are ASINs; anything else is a SKU. Blank lines and ``#`` comments are
    ignored.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    known = {"asin", "asin1", "sku", "seller_sku", "seller-sku"}
    out: list[tuple[Kind, str]] = []
    if known & set(header):
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        for row in reader:
            norm = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            sku = norm.get("sku") or norm.get("seller_sku") or norm.get("seller-sku")
            asin = norm.get("asin") or norm.get("asin1")
            if sku:
                out.append(("sku", sku))
            if asin:
                out.append(("asin", normalize_asin(asin)))
        return out
    for ln in lines:
        value = ln.strip()
        if _ASIN_RE.match(value.upper()) and value.upper() == value:
            out.append(("asin", value))
        else:
            out.append(("sku", value))
    return out


def merge(existing: Mapping[str, Any] | None, item: TrackedItem, now: datetime) -> dict[str, Any] | None:
    """The stored record after adding ``item``; ``None`` when nothing changes (already tracked as is)."""
    if existing is None:
        return {
            "kind": item.kind,
            "value": item.value,
            "marketplace_id": item.marketplace_id,
            "asin": item.asin,
            "sources": sorted(set(item.sources)),
            "added_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
    sources = sorted(set(existing.get("sources") or ()) | set(item.sources))
    asin = item.asin or existing.get("asin")
    if sources == sorted(existing.get("sources") or ()) and asin == existing.get("asin"):
        return None
    record = {k: v for k, v in existing.items() if not k.startswith("_")}
    record.update({"sources": sources, "asin": asin, "updated_at": now.isoformat()})
    return record


def _from_record(account_id: str, rec: Mapping[str, Any]) -> TrackedItem:
    return TrackedItem(
        account_id=account_id,
        marketplace_id=str(rec["marketplace_id"]),
        kind=rec["kind"],
        value=str(rec["value"]),
        asin=rec.get("asin"),
        sources=tuple(rec.get("sources") or ()),
    )


class Registry:
    """Thin adapter: the registry on a state store."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def add(self, items: Iterable[TrackedItem], now: datetime) -> int:
        """Track ``items``; returns how many entries were created or changed."""
        changed = 0
        for item in items:
            for _attempt in range(5):
                existing = self._state.get(NAMESPACE, item.account_id, item.sort_key)
                record = merge(existing, item, now)
                if record is None:
                    break
                try:
                    self._state.put(
                        NAMESPACE,
                        item.account_id,
                        item.sort_key,
                        record,
                        expect_version=0 if existing is None else int(existing["_version"]),
                    )
                except ConflictError:
                    continue
                changed += 1
                break
        return changed

    def remove(self, item: TrackedItem) -> None:
        self._state.delete(NAMESPACE, item.account_id, item.sort_key)

    def items(
        self, account_id: str, kind: Kind | None = None, marketplace_id: str | None = None
    ) -> list[TrackedItem]:
        prefix = ""
        if kind is not None:
            prefix = f"{kind}#" + (f"{marketplace_id}#" if marketplace_id else "")
        found = [_from_record(account_id, rec) for rec in self._state.query(NAMESPACE, account_id, prefix)]
        if marketplace_id is not None:
            found = [i for i in found if i.marketplace_id == marketplace_id]
        return found

    def asins(self, account_id: str, marketplace_id: str) -> list[str]:
        """ASINs to fetch from the catalog: tracked ASINs plus the ASINs of tracked SKUs."""
        values = {i.value for i in self.items(account_id, "asin", marketplace_id)}
        values |= {i.asin for i in self.items(account_id, "sku", marketplace_id) if i.asin}
        return sorted(values)

    def skus(self, account_id: str, marketplace_id: str) -> list[str]:
        return sorted(i.value for i in self.items(account_id, "sku", marketplace_id))


def user_items(
    account: Any, pairs: Iterable[tuple[Kind, str]], marketplaces: Iterable[str] = ()
) -> list[TrackedItem]:
    """Registry entries for identifiers a user listed (``splake items add``), per marketplace of the account
    (or the given subset, by id or country code)."""
    from splake.spapi.marketplaces import marketplace

    wanted = [marketplace(m).id for m in marketplaces] or list(account.marketplaces)
    unknown = [m for m in wanted if m not in account.marketplaces]
    if unknown:
        raise BadDataError(
            f"marketplace(s) {', '.join(unknown)} are not configured for account {account.id}",
            hint="use one of: " + ", ".join(account.marketplaces),
        )
    return [
        TrackedItem(account.id, mp, kind, value, None, ("user",)) for mp in wanted for kind, value in pairs
    ]
