"""Phase 2 of a lake write: commit staged documents of one table (:class:`~splake.lake.staged.StagedWrite`).

Each commit deletes what a document replaces (its scope, plus live rows elsewhere that carry one of its row
keys: :mod:`splake.lake.dedup`) and adds its files, in one Iceberg transaction. On a concurrent commit
(``CommitFailedException``/``ValidationException``) the table is reloaded and the transaction re-planned
from the same staged files. Staged files are never modified: rows a commit must not add are written to new
files, and the originals are deleted only after the commit succeeded (a crashed committer leaves them for
the re-run). The ids of committed staged writes go into the snapshot summary, so a re-run skips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import (
    AlwaysFalse,
    BooleanExpression,
    In,
    Or,
)
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.table.snapshots import ancestors_of

from splake.errors import ConflictError, FatalError
from splake.lake.dedup import NO_MATCHES, KeyMatches, find_key_matches
from splake.lake.filters import delete_filter
from splake.lake.grouping import KeyRow, replay, scope_of
from splake.lake.groupmatch import group_key_pass, window_type_of
from splake.lake.protocol import Lake
from splake.lake.rewrite import rewrite_without, without_keys
from splake.lake.staged import STAGED_IDS_PROPERTY, StagedWrite, join_ids, staged_ids_of
from splake.lake.staging import drop_files
from splake.lake.tables import DeletePlan, WriteResult
from splake.lake.txn import transaction
from splake.logs import get_logger, log_event

log = get_logger(__name__)

# the history walk of the idempotency check starts this long before the oldest staging (clock skew
# between the staging and the committing machine)
CLOCK_SKEW_S = 900.0
# staged rows a group commit may decide in Python (repeated keys, rows a later member's scope drops); a
# group above it (e.g. two big snapshots of one account in one group) is committed one by one instead
MAX_REPLAY_ROWS = 200_000


def committed_ids(tbl: Table, since: float) -> set[str]:
    """Staged ids recorded by the snapshots of the current lineage committed at or after ``since``
    (epoch seconds, minus the clock-skew margin)."""
    floor_ms = (since - CLOCK_SKEW_S) * 1000
    found: set[str] = set()
    for snap in ancestors_of(tbl.current_snapshot(), tbl.metadata):
        if snap.timestamp_ms < floor_ms:
            break
        found |= staged_ids_of(snap.summary.additional_properties if snap.summary else None)
    return found


def scope_matches(tbl: Table, expr: BooleanExpression) -> bool:
    """Does any live data file possibly hold rows of ``expr``? (A delete that matches nothing makes
    pyiceberg warn; asking first keeps the warning away without a process-global, thread-unsafe
    ``warnings.catch_warnings``.)"""
    if isinstance(expr, AlwaysFalse) or tbl.metadata.current_snapshot_id is None:
        return False
    return any(True for _ in tbl.scan(row_filter=expr).plan_files())


def already_committed(staged: StagedWrite) -> WriteResult:
    return WriteResult(
        table=staged.table,
        rows_written=0,
        rows_deleted=0,
        snapshot_id=None,
        data_files=0,
        columns_added=staged.columns_added,
        attempts=0,
        already_committed=True,
    )


def commit_group(lake: Lake, name: str, staged: Sequence[StagedWrite]) -> list[WriteResult]:
    """Commit ``staged`` (documents of table ``name``) with the result of committing them one by one in
    order; writes whose id a recent snapshot already records are skipped (``already_committed``)."""
    for s in staged:
        if s.table != name:
            raise FatalError(
                f"staged write {s.id} (report {s.report_id}) is for table {s.table}, not {name}",
                where="CuratedLake.commit_staged",
                hint="commit each table's staged writes separately",
            )
    results: list[WriteResult] = []
    run: list[StagedWrite] = []
    for s in staged:  # one transaction per run of documents with the same window column (always one run
        if run and s.plan.window_column != run[0].plan.window_column:  # unless the TableSpec changed)
            results += _commit_run(lake, name, run)
            run = []
        run.append(s)
    if run:
        results += _commit_run(lake, name, run)
    return results


def _commit_run(lake: Lake, name: str, staged: Sequence[StagedWrite]) -> list[WriteResult]:
    since = min(s.staged_at for s in staged)
    done: dict[str, WriteResult] = {}
    checked = False
    for _ in range(lake.max_attempts):
        tbl = lake.catalog.load_table(lake.ident(name))
        landed = committed_ids(tbl, since)
        firsts = {s.id: s for s in reversed(staged)}  # a write listed twice is committed once
        pending = [s for s in staged if firsts[s.id] is s and s.id not in landed and s.id not in done]
        if pending and not checked:  # before anything commits: a table must never point at missing files
            _raise_if_gone(tbl, pending)
            checked = True
        if len(pending) == 1:
            done[pending[0].id] = commit_one(lake, name, pending[0])
        elif pending:
            got = commit_many(lake, name, pending, since)
            if got is None:  # a concurrent committer landed some of them: plan again without those
                continue
            done.update(zip((s.id for s in pending), got, strict=True))
        results = []
        for s in staged:
            results.append(done.pop(s.id) if s.id in done else already_committed(s))
        return results
    raise ConflictError(
        f"could not commit to {lake.namespace}.{name}: other committers kept landing parts of this group",
        where="CuratedLake.commit_staged",
        hint="retry; every write that landed is recorded and will be skipped",
    )


def _merged_delete(plans: Sequence[DeletePlan], tbl: Table) -> BooleanExpression:
    """One Iceberg predicate for the union of the plans' scopes (plans differing only in marketplaces
    share one term)."""
    merged: dict[tuple[object, ...], set[str]] = {}
    for p in plans:
        merged.setdefault((p.mode, p.account_id, p.window_column, p.start, p.end), set()).update(
            p.marketplace_ids
        )
    schema = tbl.schema()
    terms = [
        delete_filter(DeletePlan(mode, account, tuple(sorted(markets)), wc, start, end), schema)  # type: ignore[arg-type]
        for (mode, account, wc, start, end), markets in merged.items()
    ]
    terms = [t for t in terms if not isinstance(t, AlwaysFalse)]
    if not terms:
        return AlwaysFalse()
    return terms[0] if len(terms) == 1 else Or(*terms)


def commit_many(
    lake: Lake, name: str, writes: Sequence[StagedWrite], since: float
) -> list[WriteResult] | None:
    """Commit several documents in ONE transaction: one key pass over all their staged files
    (:func:`splake.lake.groupmatch.group_key_pass`), repeated keys replayed in order
    (:func:`splake.lake.grouping.replay`), one rewrite of live rows that lose their key, one delete of the
    union of the scopes, one append. Results are what committing them one by one would report
    (``rows_written``/``rows_deleted``/``rows_superseded`` per document; ``data_files`` = its files in the
    group's snapshot). None when some of ``writes`` landed meanwhile (the caller re-plans)."""
    ids = {w.id for w in writes}
    originals = [w.to_data_files() for w in writes]
    plans = [w.plan for w in writes]
    window_column = plans[0].window_column
    accounts = sorted({p.account_id for p in plans})
    props = {**writes[-1].props, "splake.documents": str(len(writes))}
    last: Exception | None = None
    for attempt in range(lake.max_attempts):
        tbl = lake.catalog.load_table(lake.ident(name))
        if ids & committed_ids(tbl, since):
            return None
        start = tbl.metadata.current_snapshot_id
        wtype = window_type_of(tbl, window_column)
        scopes = [scope_of(i, p, wtype) for i, p in enumerate(plans)]
        expr = _merged_delete(plans, tbl)
        live_files: list[str] = []
        touched: list[str] = []
        if start is not None:
            account_filter = In(term="account_id", literals=accounts)
            live_files = [t.file.file_path for t in tbl.scan(row_filter=account_filter).plan_files()]
            if not isinstance(expr, AlwaysFalse):
                touched = [t.file.file_path for t in tbl.scan(row_filter=expr).plan_files()]
        written: list[DataFile] = []
        member_files: list[list[DataFile]] = []
        try:
            paths = [[f.file_path for f in o] for o in originals]
            keys = group_key_pass(tbl, paths, scopes, window_column, live_files, touched, MAX_REPLAY_ROWS)
            if keys.overflow:  # too many rows to replay in memory: one by one (same result, N commits)
                return [commit_one(lake, name, w) for w in writes]
            rep = replay(plans, scopes, keys.live, keys.staged)
            deleted = [rep.deleted[i] + keys.scope_deletes.get(i, 0) for i in range(len(writes))]
            for dropped in keys.scope_drops.values():
                for by in dropped.values():
                    deleted[by] += 1
            for i, files in enumerate(originals):
                drop = rep.staged_dropped.get(i, set()) | set(keys.scope_drops.get(i, {}))
                if drop:
                    kept, new = without_keys(tbl, files, pa.array(sorted(drop), pa.string()))
                    written += new
                    member_files.append(kept)
                else:
                    member_files.append(list(files))
        except Exception:
            # a concurrent committer of the same writes may have landed them and deleted staged files
            # this plan was reading: that is not an error
            drop_files(tbl.io, [f.file_path for f in written])
            if ids & committed_ids(lake.catalog.load_table(lake.ident(name)), since):
                return None
            _raise_if_gone(tbl, writes)
            raise
        final = [f for files in member_files for f in files]
        lose_key = [
            r
            for r in rep.live_deleted
            if not any(s is not None and s.covers(r.account, r.market, r.window) for s in scopes)
        ]
        last_op = "append" if final else "delete" if touched else "rewrite" if lose_key else None
        if last_op is None:  # nothing to commit (no snapshot records the ids: the staged files stay)
            drop_files(tbl.io, [f.file_path for f in written])
            return [
                _result(name, w, rep.stale.get(i, 0), deleted[i], 0, start, attempt + 1)
                for i, w in enumerate(writes)
            ]

        with_ids = {**props, STAGED_IDS_PROPERTY: join_ids(writes)}
        op_props = {op: with_ids if op == last_op else props for op in ("rewrite", "delete", "append")}
        try:
            txn = transaction(tbl)
            if lose_key:
                written += rewrite_without(
                    txn,
                    tbl,
                    accounts,
                    window_column,
                    _key_matches(lose_key),
                    op_props["rewrite"],
                )
            if touched:
                txn.delete(expr, snapshot_properties=op_props["delete"])
            if final:
                with txn.update_snapshot(snapshot_properties=op_props["append"]).fast_append() as app:
                    for f in final:
                        app.append_data_file(f)
            new_tbl = txn.commit_transaction()
        except (CommitFailedException, ValidationException) as exc:
            drop_files(tbl.io, [f.file_path for f in written])
            last = exc
            log_event(log, "lake_commit_retry", table=name, attempt=attempt + 1, error=str(exc)[:200])
            lake._backoff(attempt)
            continue
        kept_paths = {f.file_path for f in final}
        drop_files(tbl.io, [f.file_path for o in originals for f in o if f.file_path not in kept_paths])
        snapshot_id = new_tbl.metadata.current_snapshot_id
        log_event(
            log,
            "lake_group_commit",
            table=name,
            documents=len(writes),
            files=len(final),
            replayed_keys=len({r.row_key for r in keys.staged}),
            attempts=attempt + 1,
        )
        return [
            _result(name, w, rep.stale.get(i, 0), deleted[i], len(member_files[i]), snapshot_id, attempt + 1)
            for i, w in enumerate(writes)
        ]
    raise ConflictError(
        f"could not commit to {lake.namespace}.{name} after {lake.max_attempts} attempts: {last}",
        where="CuratedLake.commit_staged",
        hint="too many concurrent writers on one table; retry the sync (nothing was committed)",
    )


def _raise_if_gone(tbl: Table, writes: Sequence[StagedWrite]) -> None:
    """A staged write whose files are gone (and that no snapshot records) can never be committed: say so
    as a fatal error naming it, so a coordinator fails that document instead of retrying forever."""
    paths = [p for w in writes for p in w.files]
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(paths)))) as pool:  # S3: one HEAD per file
        exists = dict(zip(paths, pool.map(lambda p: tbl.io.new_input(p).exists(), paths), strict=True))
    for w in writes:
        gone = [p for p in w.files if not exists[p]]
        if gone:
            raise FatalError(
                f"{len(gone)} staged file(s) of report {w.report_id} (staged write {w.id}) are gone, "
                f"e.g. {gone[0]}",
                where="CuratedLake.commit_staged",
                hint="nothing of it is in the table; stage the document again",
            )


def _result(
    name: str, w: StagedWrite, stale: int, deleted: int, files: int, snapshot_id: int | None, attempts: int
) -> WriteResult:
    return WriteResult(
        table=name,
        rows_written=w.rows - stale,
        rows_deleted=deleted,
        snapshot_id=snapshot_id,
        data_files=files,
        columns_added=w.columns_added,
        attempts=attempts,
        rows_superseded=stale,
    )


def _key_matches(rows: Sequence[KeyRow]) -> KeyMatches:
    windows = [r.window for r in rows if r.window is not None]
    return KeyMatches(
        keys=pa.array(sorted({r.row_key for r in rows}), pa.string()),
        marketplaces=tuple(sorted({r.market for r in rows})),
        window_min=min(windows) if windows else None,
        window_max=max(windows) if windows else None,
        any_null_window=len(windows) < len(rows),
        stale=pa.array([], pa.string()),
        files=frozenset(str(r.data_file) for r in rows) if all(r.data_file for r in rows) else None,
    )


def commit_one(lake: Lake, name: str, staged: StagedWrite) -> WriteResult:
    """One document, one transaction (replace its scope and the live rows sharing its keys, add its rows)."""
    plan = staged.plan
    originals = staged.to_data_files()
    props = {**staged.props, STAGED_IDS_PROPERTY: staged.id}
    last: Exception | None = None
    for attempt in range(lake.max_attempts):
        tbl = lake.catalog.load_table(lake.ident(name))
        if staged.id in committed_ids(tbl, staged.staged_at):  # a concurrent re-run landed it
            return already_committed(staged)
        start = tbl.metadata.current_snapshot_id
        files: list[DataFile] = originals
        written: list[DataFile] = []
        try:
            paths = [f.file_path for f in originals]
            matches = find_key_matches(tbl, paths, plan) if start is not None else NO_MATCHES
            if len(matches.stale):
                files, written = without_keys(tbl, originals, matches.stale)
                log_event(log, "lake_stale_rows_skipped", table=name, rows=len(matches.stale))
        except Exception:  # see commit_many: a concurrent committer of the same write may have landed it
            if staged.id in committed_ids(lake.catalog.load_table(lake.ident(name)), staged.staged_at):
                return already_committed(staged)
            _raise_if_gone(tbl, [staged])
            raise
        expr = delete_filter(plan, tbl.schema())
        deleting = scope_matches(tbl, expr)
        if not deleting and not files and not matches:
            # nothing to commit, so no snapshot records the id: the staged files stay (a re-run must find
            # them); the caller that owns the staged write drops them (CuratedLake.write does)
            return WriteResult(
                table=name,
                rows_written=0,
                rows_deleted=0,
                snapshot_id=start,
                data_files=0,
                columns_added=staged.columns_added,
                attempts=attempt + 1,
                rows_superseded=staged.rows,
            )
        try:
            txn = transaction(tbl)
            if matches:
                rewrite_without(txn, tbl, [plan.account_id], plan.window_column, matches, props)
            if deleting:
                txn.delete(expr, snapshot_properties=props)
            if files:
                with txn.update_snapshot(snapshot_properties=props).fast_append() as app:
                    for f in files:
                        app.append_data_file(f)
            new = txn.commit_transaction()
        except (CommitFailedException, ValidationException) as exc:
            drop_files(tbl.io, [f.file_path for f in written])
            last = exc
            log_event(log, "lake_commit_retry", table=name, attempt=attempt + 1, error=str(exc)[:200])
            lake._backoff(attempt)
            continue
        kept = {f.file_path for f in files}
        drop_files(tbl.io, [f.file_path for f in originals if f.file_path not in kept])
        before = total_records(new, start)
        after = total_records(new, new.metadata.current_snapshot_id)
        added = sum(f.record_count for f in files)
        return WriteResult(
            table=name,
            rows_written=added,
            rows_deleted=before + added - after,
            snapshot_id=new.metadata.current_snapshot_id,
            data_files=len(files),
            columns_added=staged.columns_added,
            attempts=attempt + 1,
            rows_superseded=staged.rows - added,
        )
    raise ConflictError(
        f"could not commit to {lake.namespace}.{name} after {lake.max_attempts} attempts: {last}",
        where="CuratedLake.commit_staged",
        hint="too many concurrent writers on one table; retry the sync (nothing was committed)",
    )


def total_records(tbl: Table, snapshot_id: int | None) -> int:
    snap = tbl.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snap is None or snap.summary is None:
        return 0
    return int(snap.summary.get("total-records") or 0)
