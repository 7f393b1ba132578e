"""Marketplace discovery from ``getMarketplaceParticipations`` and the diff against the config (pure).

Amazon returns every marketplace the seller participates in for the authorization's region, including
ids splake does not know (e.g. non-Amazon sales channels) and marketplaces where the seller's listings
are inactive (``hasSuspendedListings``). An account syncs the ones that are participating, not
suspended and in its region; everything left out is named with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from splake.errors import ConfigError
from splake.spapi.marketplaces import marketplace


@dataclass(frozen=True)
class Discovered:
    marketplaces: tuple[str, ...]  # country codes to sync, in Amazon's order
    store_names: tuple[str, ...] = ()
    left_out: tuple[tuple[str, str], ...] = ()  # (marketplace id or code, reason)


def discover(participations: Any, region: str) -> Discovered:
    """Marketplaces of ``region`` that are participating and not suspended (pure)."""
    keep: list[str] = []
    stores: list[str] = []
    left: list[tuple[str, str]] = []
    for item in participations if isinstance(participations, list) else []:
        if not isinstance(item, dict):
            continue
        mp = item.get("marketplace") or {}
        part = item.get("participation") or {}
        mid = str(mp.get("id", ""))
        try:
            m = marketplace(mid)
        except ConfigError:
            left.append((mid, f"unknown to splake ({mp.get('name') or 'no name'})"))
            continue
        if m.region != region:
            left.append((m.code, f"in region {m.region}, not {region}"))
        elif not part.get("isParticipating", False):
            left.append((m.code, "not participating"))
        elif part.get("hasSuspendedListings", False):
            left.append((m.code, "suspended listings (listing status inactive)"))
        elif m.code not in keep:
            keep.append(m.code)
            if item.get("storeName"):
                stores.append(str(item["storeName"]))
    return Discovered(tuple(keep), tuple(dict.fromkeys(stores)), tuple(left))


@dataclass(frozen=True)
class MarketplaceDiff:
    configured: tuple[str, ...]
    discovered: tuple[str, ...]
    only_configured: tuple[str, ...] = field(default=())  # in the config, not (usable) at Amazon
    only_discovered: tuple[str, ...] = field(default=())  # at Amazon, not in the config

    @property
    def agrees(self) -> bool:
        return not self.only_configured and not self.only_discovered

    def lines(self) -> list[str]:
        if self.agrees:
            return [f"marketplaces agree: {', '.join(self.configured)}"]
        out = [f"config: {', '.join(self.configured) or '-'}; Amazon: {', '.join(self.discovered) or '-'}"]
        out += [
            f"  - {c}: in the config, but not participating/usable at Amazon" for c in self.only_configured
        ]
        out += [f"  + {c}: participating at Amazon, not in the config" for c in self.only_discovered]
        return out


def diff(configured: Iterable[str], discovered: Iterable[str]) -> MarketplaceDiff:
    conf = tuple(marketplace(c).code for c in configured)
    disc = tuple(marketplace(c).code for c in discovered)
    return MarketplaceDiff(
        conf, disc, tuple(c for c in conf if c not in disc), tuple(c for c in disc if c not in conf)
    )
