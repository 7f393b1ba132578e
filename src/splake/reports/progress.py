"""Terminal rendering of a sync: rich progress per account x report type, and the summary table."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from splake.logs import EventCounter
from splake.reports.hold import held_entries
from splake.reports.ledger import LedgerEntry
from splake.reports.sync import SyncSummary
from splake.reports.types import REPORT_TYPES


def short_name(report_type: str) -> str:
    """The curated table name stands for its report type in narrow tables."""
    spec = REPORT_TYPES.get(report_type)
    return spec.table if spec else report_type


def wide_console(stderr: bool = False) -> Console:
    """A console that does not squeeze tables to 80 columns when output is not a terminal."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=150)


class RichObserver:
    """A :class:`splake.reports.sync.SyncObserver` drawing one progress bar per (account, report type),
    and, given the :class:`EventCounter` of :func:`splake.logs.configure_cli_logging`, one line counting
    the retries / HTTP 429s / token refreshes absorbed so far (instead of a log line for each)."""

    def __init__(self, console: Console | None = None, counter: EventCounter | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.counter = counter
        self._counts_task: TaskID | None = None
        self.progress = Progress(
            TextColumn("[bold]{task.fields[account]}[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> RichObserver:
        self.progress.start()
        if self.counter is not None:
            self._counts_task = self.progress.add_task(
                "", total=None, account="requests", last="", visible=False
            )
            self.counter.on_change = self.counts_changed
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.counter is not None:
            self.counter.on_change = None
        self.progress.stop()

    def counts_changed(self, counter: EventCounter) -> None:
        if self._counts_task is not None:
            self.progress.update(self._counts_task, description=counter.summary(), visible=True)

    def planned(self, totals: dict[tuple[str, str], int]) -> None:
        for (account, rtype), n in sorted(totals.items()):
            self.tasks[(account, rtype)] = self.progress.add_task(
                short_name(rtype), total=n, account=account, last=""
            )

    def unit_done(self, account_id: str, report_type: str, outcome: str) -> None:
        task = self.tasks.get((account_id, report_type))
        if task is not None:
            self.progress.update(task, advance=1, last=outcome)


def summary_table(summary: SyncSummary) -> Table:
    t = Table(title="splake sync", show_lines=False)
    for col, justify in (
        ("account", "left"),
        ("table", "left"),
        ("reports", "right"),
        ("created", "right"),
        ("reused", "right"),
        ("rows landed", "right"),
        ("quarantined", "right"),
        ("no data", "right"),
        ("pending", "right"),
        ("failures", "left"),
    ):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for (account, rtype), s in sorted(summary.streams.items()):
        fails = "; ".join(s.failures[:2]) + (f" (+{len(s.failures) - 2} more)" if len(s.failures) > 2 else "")
        t.add_row(
            account,
            short_name(rtype),
            str(s.units),
            str(s.created),
            str(s.reused + s.resumed),
            f"{s.rows:,}",
            str(s.quarantined) if s.quarantined else "",
            str(s.cancelled) if s.cancelled else "",
            str(s.pending) if s.pending else "",
            f"[red]{fails}[/]" if fails else "",
        )
    t.caption = (
        f"{summary.rows:,} rows landed, {summary.created} reports created, {summary.reused} reused, "
        f"{summary.quarantined} rows quarantined, {len(summary.failures)} failure(s)"
    )
    return t


def warnings_of(summary: SyncSummary) -> list[str]:
    return [f"{s.account_id} {s.report_type}: {w}" for s in summary.streams.values() for w in s.warnings]


def status_table(entries: list[LedgerEntry]) -> Table:
    """``splake reports status``: one row per (account, report type) from the ledger."""
    groups: dict[tuple[str, str], list[LedgerEntry]] = {}
    for e in entries:
        groups.setdefault((e.account_id, e.unit.report_type), []).append(e)
    t = Table(title="report ledger")
    for col in (
        "account",
        "table",
        "ingested",
        "in flight",
        "done (to ingest)",
        "no data",
        "fatal",
        "rows",
        "last landed",
        "problems",
    ):
        t.add_column(col)
    for (account, rtype), es in sorted(groups.items()):
        by: dict[str, int] = {}
        for e in es:
            by[e.status] = by.get(e.status, 0) + 1
        landed = [e.ingested_at for e in es if e.ingested_at]
        problems = [  # held documents first: they need the user (`splake reports reland <id>`)
            f"report {e.report_id} HELD (reland after a fix): {e.reason or ''}" for e in held_entries(es)
        ] + [
            f"{e.unit.window.label}: {e.status} {e.reason or ''}"
            + (f" (cooldown until {e.cooldown_until:%H:%M})" if e.cooldown_until else "")
            for e in es
            if e.status == "FATAL" or (e.reason and e.status == "DONE")
        ]
        t.add_row(
            account,
            short_name(rtype),
            str(by.get("INGESTED", 0)),
            str(by.get("IN_QUEUE", 0) + by.get("IN_PROGRESS", 0)),
            str(by.get("DONE", 0)),
            str(by.get("CANCELLED", 0)),
            str(by.get("FATAL", 0)),
            f"{sum(e.rows for e in es):,}",
            max(landed).strftime("%Y-%m-%d %H:%M") if landed else "",
            "[red]" + "; ".join(problems[:2]) + "[/]" if problems else "",
        )
    return t
