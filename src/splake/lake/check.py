"""`splake lake check`: catalog ↔ table metadata ↔ data files ↔ ledger ↔ raw zone, per table.

For every curated table it says whether the current state is readable (metadata, manifests, every data
file), how many landed reports the ledger attributes to it, whether the raw documents needed to rebuild it
are all there, and whether an earlier ``splake lake rebuild`` was interrupted, and (unless switched off)
whether every stored row key is the version-1 key of its row (:mod:`splake.lake.keycheck`). Read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splake.lake.damage import TableDamagedError, load_checked, plain_reason, probe_table
from splake.lake.keycheck import KeyCheck, check_table_keys
from splake.ports import ObjectStore, StateStore

REBUILD_NAMESPACE = "lake"  # state items pk "rebuild", sk = table: a rebuild in progress
QUARANTINE_SUFFIX = "__quarantine"


@dataclass
class TableCheck:
    table: str
    in_catalog: bool
    damage: str | None = None  # why the current state cannot be read
    ingested_reports: int = 0  # INGESTED ledger entries landing into this table
    raw_missing: list[str] = field(default_factory=list)  # raw documents of those entries that are gone
    rebuild_interrupted: bool = False
    keys: KeyCheck | None = None  # row-key verification (None: not run)
    report_table: bool = True  # False: an API table (no raw documents, not rebuildable)

    @property
    def ok(self) -> bool:
        return (
            self.damage is None
            and not self.raw_missing
            and not self.rebuild_interrupted
            and (self.in_catalog or self.ingested_reports == 0)
            and (self.keys is None or self.keys.ok)
        )

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.in_catalog and self.ingested_reports:
            out.append(f"missing from the catalog although {self.ingested_reports} report(s) landed in it")
        if self.damage:
            out.append(self.damage)
        if self.rebuild_interrupted:
            out.append("a `splake lake rebuild` of this table was interrupted")
        if self.raw_missing:
            more = f" (and {len(self.raw_missing) - 1} more)" if len(self.raw_missing) > 1 else ""
            out.append(f"{len(self.raw_missing)} raw document(s) missing: {self.raw_missing[0]}{more}")
        k = self.keys
        if k is not None and k.wrong:
            out.append(
                f"{k.wrong} of {k.rows} rows have a wrong row key ({k.bug_keyed} numbered as a repeat by "
                f"the row-key bug of builds 5bb07ed..148d46c, {k.unknown_form} of no version-1 form), "
                f"{k.doubled} of them stored twice"
            )
            out += [
                f"wrong key {e['row_key']} (account {e['account_id']}, marketplace {e['marketplace_id']})"
                for e in k.examples
            ]
        if k is not None and k.same_key:
            out.append(f"{k.same_key} rows carry a row key another live row of the table also has")
        return out

    @property
    def fix(self) -> str | None:
        if self.ok:
            return None
        base = self.table.removesuffix(QUARANTINE_SUFFIX)
        if self.raw_missing:
            return (
                "restore the raw zone (raw/) from a backup; without those documents a rebuild would "
                f"lose their rows (then `splake lake rebuild --table {base}`)"
            )
        if self.keys is not None and not self.keys.ok and not self.report_table:
            return (
                "not a report table: no raw documents to rebuild it from, `splake lake rebuild` cannot "
                "repair it; the listed rows carry wrong keys (a later fetch of the same record is stored "
                "next to them, not over them)"
            )
        if self.ingested_reports == 0 and base == self.table:
            return f"no landed report of {base} is in the ledger: drop it or let the next sync refill it"
        return f"splake lake rebuild --table {base}"

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "ok": self.ok,
            "in_catalog": self.in_catalog,
            "problems": self.problems,
            "ingested_reports": self.ingested_reports,
            "raw_missing": self.raw_missing,
            "fix": self.fix,
            "row_keys": self.keys.to_json() if self.keys is not None else None,
        }


@dataclass
class LakeCheck:
    root: str
    catalog_error: str | None
    state_error: str | None
    tables: list[TableCheck]

    @property
    def ok(self) -> bool:
        return self.catalog_error is None and self.state_error is None and all(t.ok for t in self.tables)

    @property
    def damaged(self) -> list[TableCheck]:
        return [t for t in self.tables if not t.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "ok": self.ok,
            "catalog_error": self.catalog_error,
            "state_error": self.state_error,
            "tables": [t.to_json() for t in self.tables],
        }


def report_table_of(report_type: str) -> str | None:
    from splake.reports.types import REPORT_TYPES

    spec = REPORT_TYPES.get(report_type)
    return spec.table if spec is not None else None


def landed_by_table(entries: Iterable[Any]) -> dict[str, list[Any]]:
    """INGESTED ledger entries grouped by the curated table they landed in."""
    out: dict[str, list[Any]] = {}
    for e in entries:
        if e.status != "INGESTED" or not e.raw_key:
            continue
        table = report_table_of(e.unit.report_type)
        if table is not None:
            out.setdefault(table, []).append(e)
    return out


def interrupted_rebuilds(state: StateStore) -> set[str]:
    return {str(item["_sk"]) for item in state.query(REBUILD_NAMESPACE, "rebuild")}


def declared_tables() -> dict[str, Any]:
    """{table name: TableSpec} of every curated table splake declares statically (report types, API items);
    a name two declarations disagree on maps to None."""
    import importlib

    from splake.lake.tables import TableSpec
    from splake.reports.typed import table_spec
    from splake.reports.types import REPORT_TYPES

    specs: list[TableSpec] = [table_spec(s) for s in REPORT_TYPES.values()]
    for mod in ("splake.items.tables", "splake.items.vendor_orders", "splake.items.vendor_df_orders"):
        specs += [v for v in vars(importlib.import_module(mod)).values() if isinstance(v, TableSpec)]
    out: dict[str, Any] = {}
    for spec in specs:
        known = out.get(spec.name, spec)
        same = known is not None and (known.key_columns, known.schema) == (spec.key_columns, spec.schema)
        out[spec.name] = spec if same else None
    return out


def check_keys(catalog: Any, namespace: str, name: str, specs: dict[str, Any]) -> KeyCheck | None:
    """Row-key verification of one curated table (None when the table cannot be read: reported as damage)."""
    try:
        tbl, uris = load_checked(catalog, namespace, name)
    except (TableDamagedError, Exception):  # reported as damage by probe_table
        return None
    spec = specs.get(name)
    if spec is None:
        why = "declared twice with different keys" if name in specs else "no declaration known"
        return KeyCheck(name, skipped=f"{why}: row keys not verified")
    try:
        return check_table_keys(tbl, uris, spec)
    except Exception as exc:  # a file unreadable mid-scan, an unexpected stored type: say so, go on
        return KeyCheck(name, skipped=f"could not be verified: {plain_reason(exc)}")


def check_lake(
    root: Path,
    namespace: str,
    catalog_factory: Any,
    state: StateStore | None,
    *,
    verify_keys: bool = True,
) -> LakeCheck:
    """Check the local lake at ``root``. ``catalog_factory()`` opens its catalog (may raise).
    ``verify_keys``: also recompute every curated row's key (reads all data files)."""
    from splake.lake.objectstore import LocalObjectStore
    from splake.lake.raw import META_SUFFIX
    from splake.reports import ledger

    catalog_error = state_error = None
    tables: dict[str, TableCheck] = {}
    try:
        catalog = catalog_factory()
        names = sorted(ident[-1] for ident in catalog.list_tables(namespace))
    except sqlite3.DatabaseError as exc:
        catalog_error = (
            f"catalog.db is unreadable ({exc}); `splake lake rebuild` re-creates it from the raw zone"
        )
        catalog, names = None, []
    except Exception as exc:
        if type(exc).__name__ == "NoSuchNamespaceError":
            catalog, names = None, []
        else:
            catalog_error = plain_reason(exc)
            catalog, names = None, []
    for name in names:
        assert catalog is not None
        tables[name] = TableCheck(name, in_catalog=True, damage=probe_table(catalog, namespace, name))
    if verify_keys and catalog is not None:
        specs = declared_tables()
        from splake.reports.types import REPORT_TYPES

        reports = {spec.table for spec in REPORT_TYPES.values()}
        for name, tc in tables.items():
            if tc.damage is None and not name.endswith(QUARANTINE_SUFFIX):
                tc.keys = check_keys(catalog, namespace, name, specs)
                tc.report_table = name in reports
    landed: dict[str, list[Any]] = {}
    rebuilding: set[str] = set()
    if state is not None:
        try:
            landed = landed_by_table(ledger.entries(state))
            rebuilding = interrupted_rebuilds(state)
        except sqlite3.DatabaseError as exc:
            state_error = f"state.db is unreadable: {exc}"
    objects: ObjectStore = LocalObjectStore(root)
    for table, entries in landed.items():
        tc = tables.setdefault(table, TableCheck(table, in_catalog=False))
        tc.ingested_reports = len(entries)
        tc.raw_missing = sorted(
            key
            for e in entries
            for key in (e.raw_key, e.raw_key + META_SUFFIX)  # the document and its sidecar
            if not objects.exists(key)
        )
    for table in rebuilding:
        tables.setdefault(table, TableCheck(table, in_catalog=False)).rebuild_interrupted = True
    return LakeCheck(str(root), catalog_error, state_error, sorted(tables.values(), key=lambda t: t.table))
