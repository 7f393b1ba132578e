"""Planning as pure functions: which report windows to request for each (account, marketplace, type).

Windows lie on a fixed grid (multiples of the type's ``max_window`` since the Unix epoch, truncated at
"now" rounded down to the type's ``granularity``), so re-planning after a crash yields the same windows and
the ledger finds the in-flight reports again. Snapshot types get one slot per ``refresh_interval``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from splake.config import AccountSettings, Settings
from splake.reports.types import REPORT_TYPES, ReportTypeSpec, default_report_types

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_time(t: datetime, step: timedelta) -> datetime:
    """Round ``t`` down to a multiple of ``step`` since the Unix epoch (UTC)."""
    t = as_utc(t)
    n = (t - EPOCH) // step
    return EPOCH + n * step


def as_utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def iso(t: datetime | None) -> str | None:
    return None if t is None else as_utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass(frozen=True, order=True)
class Window:
    """Half-open data window [start, end). Snapshots: ``start`` is None and ``end`` is the slot time."""

    start: datetime | None
    end: datetime

    @property
    def label(self) -> str:
        return f"{iso(self.start) or 'snapshot'}..{iso(self.end)}"


def grid_floor(spec: ReportTypeSpec, t: datetime, step: timedelta) -> datetime:
    """``t`` rounded down to the type's window grid (``floor_time`` shifted by ``spec.grid_offset``)."""
    return floor_time(t - spec.grid_offset, step) + spec.grid_offset


def effective_lookback(spec: ReportTypeSpec, lookback: timedelta) -> timedelta:
    return max(lookback, spec.lookback)


def plan_windows(
    spec: ReportTypeSpec,
    cursor: datetime | None,
    now: datetime,
    start_date: date | datetime | None,
    lookback: timedelta,
    *,
    repull: bool = True,
) -> list[Window]:
    """Windows to (re)request for one stream.

    ``cursor`` is the end of the contiguous data already landed (windowed types) or the slot of the last
    landed snapshot (snapshot types). Windowed: from ``cursor - lookback`` (or ``start_date`` on the first
    run, or ``now - lookback`` without one) to ``now - end_lag`` rounded down to ``granularity``, never
    before ``start_date``; chunks never cross the ``max_window`` grid. ``repull=False`` (the cursor moved
    recently, so the lookback was re-pulled moments ago) starts at the cursor itself.
    """
    now = as_utc(now)
    if not spec.windowed:
        slot = floor_time(now, spec.refresh_interval)
        if cursor is not None and as_utc(cursor) >= slot:
            return []
        return [Window(None, slot)]
    lb = effective_lookback(spec, lookback) if repull else timedelta(0)
    floor_start: datetime | None = None
    if start_date is not None:
        floor_start = (
            as_utc(start_date)
            if isinstance(start_date, datetime)
            else datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
        )
    if cursor is not None:
        begin = as_utc(cursor) - lb
    elif floor_start is not None:
        begin = floor_start
    else:
        begin = now - lb
    if floor_start is not None and begin < floor_start:
        begin = floor_start
    begin = grid_floor(spec, begin, spec.granularity)
    if floor_start is not None and begin < floor_start:
        begin += spec.granularity  # a period must be whole: start at the first one inside the backfill
    end_limit = grid_floor(spec, now - spec.end_lag, spec.granularity)
    windows: list[Window] = []
    t = begin
    while t < end_limit:
        grid_end = grid_floor(spec, t, spec.max_window) + spec.max_window
        e = min(grid_end, end_limit)
        windows.append(Window(t, e))
        t = e
    return windows


UnitKind = Literal["request", "discover"]


@dataclass(frozen=True)
class WorkUnit:
    """One report to obtain: serialisable (``to_dict``/``from_dict``) for Step Functions payloads."""

    account_id: str
    report_type: str
    marketplace_ids: tuple[str, ...]
    window: Window
    kind: UnitKind = "request"
    options: tuple[tuple[str, str], ...] = ()
    cursor_base: datetime | None = None  # the stream's coverage start when planned (cursor or backfill)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def stream(self) -> str:
        """Cursor sort key: report type + marketplaces."""
        return f"{self.report_type}#{','.join(self.marketplace_ids)}"

    @property
    def key(self) -> str:
        """Ledger sort key: stream + window (stable across re-plans)."""
        return f"{self.stream}#{self.window.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "report_type": self.report_type,
            "marketplace_ids": list(self.marketplace_ids),
            "window_start": iso(self.window.start),
            "window_end": iso(self.window.end),
            "kind": self.kind,
            "options": dict(self.options),
            "cursor_base": iso(self.cursor_base),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WorkUnit:
        end = parse_iso(d["window_end"])
        assert end is not None
        return cls(
            account_id=d["account_id"],
            report_type=d["report_type"],
            marketplace_ids=tuple(d["marketplace_ids"]),
            window=Window(parse_iso(d.get("window_start")), end),
            kind=d.get("kind", "request"),
            options=tuple(sorted((str(k), str(v)) for k, v in (d.get("options") or {}).items())),
            cursor_base=parse_iso(d.get("cursor_base")),
            extra=dict(d.get("extra") or {}),
        )


def report_types_for(settings: Settings, account: AccountSettings) -> tuple[str, ...]:
    configured = settings.report_types_for(account)
    names = configured if configured else default_report_types(account.type)
    skip = set(account.exclude_report_types)
    return tuple(n for n in names if account.type in REPORT_TYPES[n].account_kinds and n not in skip)


def unit_options(
    spec: ReportTypeSpec, account: AccountSettings, configured: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    from splake.reports.catalog.options import effective_options

    vendor = account.vendor_report_options if account.type == "vendor" else None
    return tuple(sorted(effective_options(spec, configured or {}, vendor).items()))


def cursor_key(report_type: str, marketplace_ids: tuple[str, ...]) -> str:
    return f"{report_type}#{','.join(marketplace_ids)}"


def plan_units(
    settings: Settings,
    cursors: Mapping[tuple[str, str], datetime | None],
    now: datetime,
    accounts: tuple[str, ...] | None = None,
    report_types: tuple[str, ...] | None = None,
    *,
    recent: frozenset[tuple[str, str]] = frozenset(),
) -> list[WorkUnit]:
    """Every work unit for the configured accounts x marketplaces x report types (pure).

    ``cursors`` maps (account_id, cursor_key) to the stored cursor; ``recent`` holds the streams whose
    cursor moved within ``reuse_done_within_hours`` (their lookback is not re-pulled again yet). One unit
    per marketplace for requested
    types (flat files don't always carry a marketplace column); settlement-like types get one ``discover``
    unit per account.
    """
    units: list[WorkUnit] = []
    lookback = timedelta(days=settings.sync.lookback_days)
    for account in settings.accounts:
        if accounts and account.id not in accounts:
            continue
        for name in report_types_for(settings, account):
            if report_types and name not in report_types:
                continue
            spec = REPORT_TYPES[name]
            if not spec.requestable:
                ckey = cursor_key(name, account.marketplaces)
                cur = cursors.get((account.id, ckey))
                # discovery looks back by the type's lookback (settlements: one period+) from the cursor,
                # or from the backfill start on the first run
                since = (cur if cur is not None else _start_datetime(settings, now, spec)) - spec.lookback
                units.append(
                    WorkUnit(
                        account_id=account.id,
                        report_type=name,
                        marketplace_ids=account.marketplaces,
                        window=Window(since, floor_time(now, timedelta(hours=1))),
                        kind="discover",
                        cursor_base=cur,
                    )
                )
                continue
            conf = {**settings.sync.report_options.get(name, {}), **account.report_options.get(name, {})}
            opts = unit_options(spec, account, conf)
            for mid in account.marketplaces:
                ckey = cursor_key(name, (mid,))
                cur = cursors.get((account.id, ckey))
                windows = plan_windows(
                    spec,
                    cur,
                    now,
                    settings.sync.start_date,
                    lookback,
                    repull=(account.id, ckey) not in recent,
                )
                base = cur if cur is not None else (windows[0].start if windows else None)
                for w in windows:
                    units.append(
                        WorkUnit(
                            account_id=account.id,
                            report_type=name,
                            marketplace_ids=(mid,),
                            window=w,
                            options=opts,
                            cursor_base=base,
                        )
                    )
    return units


def _start_datetime(settings: Settings, now: datetime, spec: ReportTypeSpec) -> datetime:
    sd = settings.sync.start_date
    if sd is not None:
        return datetime(sd.year, sd.month, sd.day, tzinfo=UTC)
    return floor_time(
        now - effective_lookback(spec, timedelta(days=settings.sync.lookback_days)), timedelta(days=1)
    )


def advance_cursor(cursor: datetime | None, base: datetime | None, window: Window) -> datetime | None:
    """New cursor after ``window`` landed (pure). Windowed: extend the contiguous coverage only (a window
    that starts after the coverage leaves it unchanged). Snapshots: the slot time."""
    if window.start is None:
        return window.end if cursor is None or window.end > cursor else cursor
    coverage = cursor if cursor is not None else base
    if coverage is None or window.start > coverage:
        return cursor
    return window.end if cursor is None or window.end > cursor else cursor
