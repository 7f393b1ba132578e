"""`splake accounts check`: can splake sync this account, and what would fail?

Per account: the LWA refresh works; the marketplaces are reachable (``getMarketplaceParticipations``,
sellers; diffed against the config); one cheap call per API family shows which roles the
authorization carries (reports, orders: ``searchOrders`` 2026-01-01 and v0 ``getOrders`` without and
with a Restricted Data Token, finances, FBA inventory, vendor reports, notifications); and
``getReports`` filtered on the configured report types shows which of them Amazon refuses (403) for
lack of a role — before a sync spends hours on them.
A family the app lacks a role for answers 403 ``Unauthorized``; anything else is reported as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from splake.accounts.discovery import diff, discover
from splake.accounts.roles import FAMILY_ROLES, roles_for_report_type
from splake.config import AccountSettings, Settings
from splake.errors import ApiError, SplakeError
from splake.spapi.client import SpApiClient
from splake.spapi.marketplaces import marketplace

Status = Literal["ok", "denied", "error", "skipped"]
MAX_TYPES_PER_CALL = 10  # getReports accepts at most 10 reportTypes


@dataclass(frozen=True)
class Probe:
    family: str
    operation: str
    status: Status
    detail: str = ""
    roles: tuple[str, ...] = ()  # roles that grant this family (any one)


@dataclass(frozen=True)
class ReportTypeVerdict:
    report_type: str
    status: Status
    needs_one_of: tuple[str, ...] = ()
    excluded: bool = False  # already in the account's exclude_report_types


@dataclass(frozen=True)
class AccountCheck:
    account_id: str
    type: str
    region: str
    selling_partner_id: str
    lwa: Status
    lwa_detail: str = ""
    marketplaces_configured: tuple[str, ...] = ()
    marketplaces_discovered: tuple[str, ...] | None = None  # None: not available (vendors, errors)
    marketplace_lines: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = ()
    report_types: tuple[ReportTypeVerdict, ...] = field(default=())

    @property
    def would_fail(self) -> tuple[str, ...]:
        return tuple(v.report_type for v in self.report_types if v.status == "denied" and not v.excluded)

    @property
    def ok(self) -> bool:
        return (
            self.lwa == "ok"
            and not self.would_fail
            and not any(p.status == "error" for p in self.probes)
            and all(v.status != "error" for v in self.report_types)
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["would_fail"] = list(self.would_fail)
        out["ok"] = self.ok
        return out


def _status_of(exc: BaseException) -> tuple[Status, str]:
    if isinstance(exc, ApiError) and exc.status == 403:
        return "denied", "403 Unauthorized (the authorization lacks the role)"
    if isinstance(exc, SplakeError):
        return "error", exc.message
    return "error", f"{type(exc).__name__}: {exc}"


def configured_report_types(settings: Settings, account: AccountSettings) -> tuple[str, ...]:
    """The report types a sync would plan for the account, plus the ones it excludes."""
    from splake.reports.planner import report_types_for

    unexcluded = account.model_copy(update={"exclude_report_types": ()})
    return report_types_for(settings, unexcluded)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _probe(
    api: SpApiClient, account: AccountSettings, family: str, op: str, roles: tuple[str, ...] = (), **kw: Any
) -> Probe:
    try:
        await api.call(account, op, **kw)
    except ApiError as exc:
        if exc.status == 404 and op == "getSubscription":
            return Probe(family, op, "ok", "no subscription yet (404)", roles)
        status, detail = _status_of(exc)
        return Probe(family, op, status, detail, roles)
    except SplakeError as exc:
        return Probe(family, op, "error", exc.message, roles)
    return Probe(family, op, "ok", "", roles)


async def _report_type_verdicts(
    api: SpApiClient, account: AccountSettings, types: Sequence[str]
) -> tuple[Probe, list[ReportTypeVerdict]]:
    """One getReports call for all types; only if Amazon refuses it, one call per type."""
    excluded = set(account.exclude_report_types)
    family = "vendor_reports" if account.type == "vendor" else "reports"
    roles = FAMILY_ROLES.get(family, ())

    async def one(batch: Sequence[str]) -> tuple[Status, str]:
        try:
            await api.call(account, "getReports", params={"reportTypes": list(batch), "pageSize": 1})
        except (SplakeError, OSError) as exc:
            return _status_of(exc)
        return "ok", ""

    verdicts: list[ReportTypeVerdict] = []
    probe_status: Status = "ok"
    probe_detail = ""
    for i in range(0, len(types), MAX_TYPES_PER_CALL):
        batch = types[i : i + MAX_TYPES_PER_CALL]
        status, detail = await one(batch)
        if status == "denied":
            singles = [(t, await one([t])) for t in batch]
        else:
            singles = [(t, (status, detail)) for t in batch]
        for t, (st, _d) in singles:
            verdicts.append(ReportTypeVerdict(t, st, roles_for_report_type(t), t in excluded))
        if status == "error":
            probe_status, probe_detail = "error", detail
    if types and all(v.status == "denied" for v in verdicts):
        probe_status, probe_detail = "denied", "every configured report type refused (403)"
    elif any(v.status == "denied" for v in verdicts):
        probe_detail = "refused: " + ", ".join(v.report_type for v in verdicts if v.status == "denied")
    if not types:
        probe_status, probe_detail = "skipped", "no report types configured"
    return Probe(family, "getReports", probe_status, probe_detail, roles), verdicts


async def check_account(
    api: SpApiClient,
    access_token: Callable[[AccountSettings], Awaitable[str]],
    settings: Settings,
    account: AccountSettings,
    now: datetime,
) -> AccountCheck:
    base = AccountCheck(
        account.id,
        account.type,
        account.region,
        account.selling_partner_id,
        "ok",
        marketplaces_configured=tuple(marketplace(m).code for m in account.marketplaces),
    )
    try:
        await access_token(account)
    except (SplakeError, OSError) as exc:
        hint = exc.hint if isinstance(exc, SplakeError) else None
        detail = (exc.message if isinstance(exc, SplakeError) else str(exc)) + (f" → {hint}" if hint else "")
        return _replace(base, lwa="error", lwa_detail=detail)
    probes: list[Probe] = []
    discovered: tuple[str, ...] | None = None
    lines: list[str] = []
    mid = account.marketplaces[0]
    if account.type == "seller":
        try:
            resp = await api.call(account, "getMarketplaceParticipations")
        except (SplakeError, OSError) as exc:
            status, detail = _status_of(exc)
            probes.append(Probe("sellers", "getMarketplaceParticipations", status, detail))
        else:
            found = discover((resp.body or {}).get("payload"), account.region)
            discovered = found.marketplaces
            lines = diff(account.marketplaces, found.marketplaces).lines()
            lines += [f"  (left out {code}: {why})" for code, why in found.left_out]
            probes.append(Probe("sellers", "getMarketplaceParticipations", "ok", ", ".join(discovered)))
    else:
        lines = ["vendors have no marketplace participations to discover: marketplaces as configured"]
    types = configured_report_types(settings, account)
    report_probe, verdicts = await _report_type_verdicts(api, account, types)
    probes.append(report_probe)
    if account.type == "seller":
        day = now - timedelta(days=1)
        # Orders 2026-01-01 first (what a sync uses), then v0 (its fallback) without and with an RDT
        search = {
            "marketplaceIds": mid,
            "lastUpdatedAfter": _iso(day - timedelta(days=1)),
            "maxResultsPerPage": 1,
        }
        probes.append(
            await _probe(api, account, "orders", "searchOrders", FAMILY_ROLES["orders"], params=search)
        )
        orders = {
            "MarketplaceIds": mid,
            "CreatedAfter": _iso(day - timedelta(days=1)),
            "MaxResultsPerPage": 1,
        }
        probes.append(
            await _probe(api, account, "orders_v0", "getOrders", FAMILY_ROLES["orders"], params=orders)
        )
        probes.append(
            await _probe(
                api,
                account,
                "orders_rdt",
                "getOrders",
                FAMILY_ROLES["orders_rdt"],
                params=orders,
                rdt_elements=["buyerInfo", "shippingAddress"],
            )
        )
        finances = {
            "PostedAfter": _iso(day - timedelta(days=1)),
            "PostedBefore": _iso(day),
            "MaxResultsPerPage": 1,
        }
        probes.append(
            await _probe(
                api, account, "finances", "listFinancialEvents", FAMILY_ROLES["finances"], params=finances
            )
        )
        inventory = {
            "details": "false",
            "granularityType": "Marketplace",
            "granularityId": mid,
            "marketplaceIds": mid,
        }
        probes.append(
            await _probe(
                api,
                account,
                "fba_inventory",
                "getInventorySummaries",
                FAMILY_ROLES["fba_inventory"],
                params=inventory,
            )
        )
    probes.append(
        await _probe(
            api,
            account,
            "notifications",
            "getSubscription",
            path={"notificationType": "REPORT_PROCESSING_FINISHED"},
        )
    )
    return _replace(
        base,
        marketplaces_discovered=discovered,
        marketplace_lines=tuple(lines),
        probes=tuple(probes),
        report_types=tuple(verdicts),
    )


def _replace(check: AccountCheck, **changes: Any) -> AccountCheck:
    return replace(check, **changes)


STATUS_TEXT = {"ok": "ok", "denied": "DENIED", "error": "ERROR", "skipped": "-"}


def render(checks: Sequence[AccountCheck]) -> list[str]:
    """The human-readable report: one block per account (pure)."""
    out: list[str] = []
    for c in checks:
        verdict = "OK" if c.ok else "PROBLEMS"
        out.append(f"{c.account_id} ({c.type}, {c.region}, {c.selling_partner_id}): {verdict}")
        out.append(f"  LWA refresh: {STATUS_TEXT[c.lwa]}" + (f" - {c.lwa_detail}" if c.lwa_detail else ""))
        out += [f"  {line}" for line in c.marketplace_lines]
        if c.probes:
            width = max(len(p.family) for p in c.probes)
            out.append(f"  {'family':<{width}}  {'operation':<28} result")
            for p in c.probes:
                detail = f" - {p.detail}" if p.detail else ""
                out.append(f"  {p.family:<{width}}  {p.operation:<28} {STATUS_TEXT[p.status]}{detail}")
        for v in c.report_types:
            if v.status == "ok":
                continue
            needs = f" (needs one of: {', '.join(v.needs_one_of)})" if v.needs_one_of else ""
            tag = "excluded" if v.excluded else "WOULD FAIL"
            out.append(f"  {tag}: {v.report_type}: {STATUS_TEXT[v.status]}{needs}")
        if c.would_fail:
            out.append(
                f"  → ask the seller to re-authorize after the app gained the role, or stop syncing these: "
                f"`splake accounts check {c.account_id} --exclude-denied`"
            )
    return out
