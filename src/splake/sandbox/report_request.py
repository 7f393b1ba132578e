"""What a sandbox report document is rendered from (the report request, fixed when the report is created),
and how rendering refuses one (``ReportFatal``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from splake.sandbox.accounts import SandboxAccount


@dataclass(frozen=True)
class ReportRequest:
    report_type: str
    account: SandboxAccount
    marketplace_ids: tuple[str, ...]
    start: datetime
    end: datetime
    options: tuple[tuple[str, str], ...]
    as_of: datetime
    seed: int
    scale: float
    drift: bool = False
    localized: bool = False  # JP Japanese header labels
    vendor_delay_hours: float = 0.0

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)


class ReportFatal(Exception):
    """The report ends FATAL; ``details`` goes into the error document (``{"errorDetails": ...}``)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details
