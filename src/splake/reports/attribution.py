"""Which marketplace a discovered report (settlements, found with getReports) lands under — pure.

A report lands under the marketplaces Amazon lists for it (``marketplaceIds``), whether or not the
account's configuration lists them: a unified North America account's CA settlement is CA data even when
only US is configured. It is never relabelled as a configured marketplace. A report Amazon lists without
any marketplace is skipped with a note (landing it under a guessed marketplace would mislabel money).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from splake.errors import ConfigError
from splake.spapi.marketplaces import marketplace


@dataclass(frozen=True)
class Attribution:
    marketplace_ids: tuple[str, ...]  # empty: skip the report
    note: str | None = None  # why, when the result is not simply the configured marketplaces


def _code(mid: str) -> str:
    try:
        return marketplace(mid).code
    except ConfigError:
        return mid


def attribute(report: Mapping[str, Any], configured: Sequence[str]) -> Attribution:
    """Marketplaces for a getReports entry of an account configured with ``configured`` (ids)."""
    ids = tuple(dict.fromkeys(str(m) for m in (report.get("marketplaceIds") or []) if m))
    rid = report.get("reportId")
    if not ids:
        return Attribution(
            (),
            f"report {rid} has no marketplaceIds: skipped (it would otherwise be labelled with a guessed "
            "marketplace)",
        )
    extra = [m for m in ids if m not in configured]
    if extra:
        names = ", ".join(_code(m) for m in extra)
        return Attribution(
            ids,
            f"report {rid} is for {names}, which the account does not list: landed under {names} (its real "
            "marketplace); add it to the account's marketplaces to sync its other reports too",
        )
    return Attribution(ids)
