"""Reports API 2021-06-30 (createReport, getReports, getReport, cancelReport, getReportDocument) and the
report processing lifecycle. (Being built: routes are added in the next commit.)"""

from __future__ import annotations

from starlette.routing import Route

from splake.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    return []


def tick(state: SandboxState) -> None:
    """Advance report processing (IN_QUEUE → IN_PROGRESS → DONE/FATAL/CANCELLED) and notify."""
