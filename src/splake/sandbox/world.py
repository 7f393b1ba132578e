"""The sandbox world: deterministic accounts, products, orders, inventory… derived from the seed.

``World`` is the ground truth that tests compare pipeline output against. Everything is a pure
function of (seed, scale, request, ``as_of``): an order's life is fixed when generated, a report shows
it as of the report's creation time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from splake.sandbox import reports_render
from splake.sandbox.accounts import SandboxAccount, make_accounts, make_app
from splake.sandbox.render_settlements import SettlementPeriod, settlement_periods
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.reports_render import RenderedReport, RenderInfo


class World:
    def __init__(self, seed: int = 7, scale: float = 1.0, drift: bool = False) -> None:
        self.seed = seed
        self.scale = scale
        self.drift = drift  # schema drift: extra columns some sellers get
        self.localized_headers = False  # JP reports with Japanese header labels
        self.vendor_delay_hours = 0.0  # vendor data availability delay
        self.accounts: tuple[SandboxAccount, ...] = make_accounts(seed)
        app = make_app(seed)
        self.client_id = app.client_id
        self.client_secret = app.client_secret
        self.application_id = app.application_id

    # --- accounts ---------------------------------------------------------------------------------
    def account(self, account_id: str) -> SandboxAccount:
        for a in self.accounts:
            if a.account_id == account_id:
                return a
        raise KeyError(account_id)

    def account_by_refresh_token(self, refresh_token: str) -> SandboxAccount | None:
        for a in self.accounts:
            if a.refresh_token == refresh_token:
                return a
        return None

    def account_by_selling_partner_id(self, selling_partner_id: str) -> SandboxAccount | None:
        for a in self.accounts:
            if a.selling_partner_id == selling_partner_id:
                return a
        return None

    def _account_for(self, selling_partner_id: str) -> SandboxAccount:
        a = self.account_by_selling_partner_id(selling_partner_id)
        if a is None:
            # Accept the sandbox account id too ("seller-na") for convenience in tests.
            return self.account(selling_partner_id)
        return a

    # --- reports ----------------------------------------------------------------------------------
    def report_request(
        self,
        report_type: str,
        selling_partner_id: str,
        marketplace_ids: list[str] | tuple[str, ...],
        start: datetime,
        end: datetime,
        options: Mapping[str, str] | None = None,
        *,
        as_of: datetime | None = None,
    ) -> ReportRequest:
        from splake.sandbox.report_types import REPORT_TYPES

        rt = REPORT_TYPES[report_type]
        mids = tuple(marketplace_ids)
        if rt.single_marketplace:
            mids = mids[:1]
        return ReportRequest(
            report_type=report_type,
            account=self._account_for(selling_partner_id),
            marketplace_ids=mids,
            start=start.astimezone(UTC),
            end=end.astimezone(UTC),
            options=tuple(sorted((options or {}).items())),
            as_of=(as_of or datetime.now(UTC)).astimezone(UTC),
            seed=self.seed,
            scale=self.scale,
            drift=self.drift,
            localized=self.localized_headers,
            vendor_delay_hours=self.vendor_delay_hours,
        )

    def report_rows(
        self,
        report_type: str,
        selling_partner_id: str,
        marketplace_ids: list[str] | tuple[str, ...],
        start: datetime,
        end: datetime,
        options: Mapping[str, str] | None = None,
        *,
        as_of: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Ground truth: the report's logical rows as of ``as_of`` (default now; pass the report's
        ``createdTime`` to reproduce a served document). Raises ``ReportFatal`` where Amazon ends FATAL."""
        req = self.report_request(
            report_type, selling_partner_id, marketplace_ids, start, end, options, as_of=as_of
        )
        return list(reports_render.rows(req))

    def rows_for_report(
        self, report: Mapping[str, Any], selling_partner_id: str, options: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Ground truth for a ``getReport`` response (its type, marketplaces, window and createdTime);
        pass the ``reportOptions`` used in createReport (the Report object does not carry them)."""
        from splake.sandbox.reports_state import parse_time

        return self.report_rows(
            report["reportType"],
            selling_partner_id,
            tuple(report.get("marketplaceIds") or ()),
            parse_time(report["dataStartTime"]),
            parse_time(report["dataEndTime"]),
            options,
            as_of=parse_time(report["createdTime"]),
        )

    def iter_report_rows(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return reports_render.rows(self.report_request(*args, **kwargs), cache=False)

    def render_report(
        self,
        report_type: str,
        selling_partner_id: str,
        marketplace_ids: list[str] | tuple[str, ...],
        start: datetime,
        end: datetime,
        options: Mapping[str, str] | None = None,
        *,
        as_of: datetime | None = None,
    ) -> RenderedReport:
        """The document as served (uncompressed bytes in the report's charset + Content-Type)."""
        req = self.report_request(
            report_type, selling_partner_id, marketplace_ids, start, end, options, as_of=as_of
        )
        return reports_render.render(req)

    def render_report_to(
        self,
        path: str | os.PathLike[str],
        report_type: str,
        selling_partner_id: str,
        marketplace_ids: list[str] | tuple[str, ...],
        start: datetime,
        end: datetime,
        options: Mapping[str, str] | None = None,
        *,
        as_of: datetime | None = None,
    ) -> RenderInfo:
        """Stream the gzip document to ``path`` in constant memory (``World(scale=…)`` sets its size)."""
        req = self.report_request(
            report_type, selling_partner_id, marketplace_ids, start, end, options, as_of=as_of
        )
        return reports_render.render_gzip_to(path, req)

    def settlements(
        self, selling_partner_id: str, since: datetime, until: datetime
    ) -> list[SettlementPeriod]:
        """Settlement periods whose report became available in [since, until]."""
        return settlement_periods(self.seed, self._account_for(selling_partner_id), since, until)
