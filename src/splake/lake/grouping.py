"""Pure decisions of a group commit: what committing documents one by one, in order, would keep.

A document's commit (one by one) does, against the live rows at that moment:

a. **keys** — for each new row, a live row of the same account with the same row key *outside* the
   document's scope is deleted, unless its window value is later than the new row's (then the new row is
   dropped as stale: an older document must not undo a newer update);
b. **scope** — live rows of the account + marketplaces (+ window) the document replaces are deleted;
c. the remaining new rows are added.

For a group, rows whose key occurs once (one staged row, no live row outside the staged row's own scope)
only ever meet step b: a live row stays unless some member's scope covers it, a staged row stays unless a
*later* member's scope covers it. Those are decided in bulk (SQL over the key columns). The few keys that
occur more than once (:func:`replay`) are replayed member by member here, exactly as above.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from splake.lake.tables import DeletePlan, window_bounds_for


@dataclass(frozen=True)
class Scope:
    """What member ``member``'s step b deletes: rows of ``account`` in ``markets`` (window: [lo, hi))."""

    member: int
    account: str
    markets: frozenset[str]
    snapshot: bool
    lo: Any = None
    hi: Any = None

    def covers(self, account: str, market: str, window: Any) -> bool:
        if account != self.account or market not in self.markets:
            return False
        if self.snapshot:
            return True
        return window is not None and self.lo <= window < self.hi


def scope_of(member: int, plan: DeletePlan, window_type: pa.DataType | None) -> Scope | None:
    """The scope a plan deletes (None: nothing), with the same bounds as the Iceberg delete filter
    (:func:`splake.lake.filters.delete_filter`) and the SQL of :func:`splake.lake.dedup.covered_sql`."""
    if plan.mode == "key" or not plan.marketplace_ids:
        return None
    markets = frozenset(plan.marketplace_ids)
    if plan.mode == "snapshot":
        return Scope(member, plan.account_id, markets, snapshot=True)
    if plan.start is None or plan.end is None or not plan.window_column or window_type is None:
        return None
    lo, hi = window_bounds_for(window_type, plan.start, plan.end)
    if not lo < hi:
        return None
    return Scope(member, plan.account_id, markets, snapshot=False, lo=lo, hi=hi)


@dataclass(frozen=True, eq=False)
class KeyRow:
    """One row of a replayed key: ``member`` is None for a live row (then ``data_file`` may name its file).
    Compared by identity (two rows may carry equal values)."""

    row_key: str
    account: str
    market: str
    window: Any
    member: int | None = None
    data_file: str | None = None


@dataclass
class Replay:
    """What the replay decided: live rows to delete, staged rows not to add (per member), and per member
    the rows its commit would have deleted and the new rows it would have dropped as stale."""

    live_deleted: list[KeyRow] = field(default_factory=list)
    staged_dropped: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    deleted: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    stale: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def replay(
    plans: Sequence[DeletePlan],
    scopes: Sequence[Scope | None],
    live: Iterable[KeyRow],
    staged: Iterable[KeyRow],
) -> Replay:
    """Replay steps a-c member by member for the given keys (live rows of the table + staged rows)."""
    by_key: dict[str, tuple[list[KeyRow], list[KeyRow]]] = defaultdict(lambda: ([], []))
    for row in live:
        by_key[row.row_key][0].append(row)
    for row in staged:
        by_key[row.row_key][1].append(row)
    scopes_of: dict[str, list[Scope]] = defaultdict(list)
    for scope in scopes:
        if scope is not None:
            scopes_of[scope.account].append(scope)
    out = Replay()
    for old, new in by_key.values():
        accounts = {r.account for r in old} | {r.account for r in new}
        steps = sorted(
            {r.member for r in new if r.member is not None}
            | {s.member for a in accounts for s in scopes_of.get(a, ())}
        )
        current = list(old)
        for i in steps:
            plan, scope = plans[i], scopes[i]
            arriving = [r for r in new if r.member == i]
            removed: list[KeyRow] = []
            kept_new: list[KeyRow] = []
            for n in arriving:  # step a, against the rows live before this commit
                is_stale = False
                for e in current:
                    if e.account != plan.account_id or (
                        scope and scope.covers(e.account, e.market, e.window)
                    ):
                        continue
                    if e.window is not None and n.window is not None and e.window > n.window:
                        is_stale = True
                    elif e not in removed:
                        removed.append(e)
                if is_stale:
                    out.stale[i] += 1
                    out.staged_dropped[i].add(n.row_key)
                else:
                    kept_new.append(n)
            if scope is not None:  # step b
                removed += [
                    e for e in current if e not in removed and scope.covers(e.account, e.market, e.window)
                ]
            for e in removed:
                out.deleted[i] += 1
                if e.member is None:
                    out.live_deleted.append(e)
                else:
                    out.staged_dropped[e.member].add(e.row_key)
            current = [e for e in current if e not in removed] + kept_new  # step c
    return out
