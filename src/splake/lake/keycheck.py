"""Row-key verification for `splake lake check`: is every stored ``row_key`` the version-1 key of its row?

Why: from 5bb07ed until 148d46c (one released version) repeats inside a document were found with DuckDB's
``hash()`` of each row's key text, which collides for near-equal texts (824 of 100,000 order-like keys). The
second row of a colliding pair was numbered as a repeat: stored with ``sha256(sha256(its text) + "#1")``
instead of ``sha256(its text)`` (measured with that version's code: all 824 have exactly this form, the
form of a genuine repeat). A later document carrying that row computes the correct key and the row is
stored twice.

How: the key text of every live row is recomputed from its stored columns with the landing path's own code
(:func:`splake.lake.rowkeys.key_texts`: account, marketplace, the table's key columns as written in the
row's data file) and hashed by DuckDB.

1. Pass 1 streams the data files in batches (bounded memory): a key equal to ``sha256(text)`` is right;
   the others (repeats and wrong keys: few) are kept, and their repeat number n is searched
   (``sha256(sha256(text)#n)``, n up to the number of such rows sharing the text plus a margin). A key of
   neither form is wrong.
2. A repeat key is proven when its document (``source_key``) still holds more than n live rows with its
   text (pass 2 reads ``row_key``/``source_key`` again, only when repeats exist). An unproven repeat is
   *bug-keyed* when a live row of the same account and marketplace has a different text with the same
   DuckDB ``hash()`` (pass 3, only then): the collision that made the buggy version number it (DuckDB is
   pinned to the same 2.0.0). Unproven repeats without such a witness are counted, not failed.
3. Wrong rows whose text another live row carries are the row stored twice, the symptom users see.

Data files are read with their own Parquet schema, so the values are the ones the key was computed from
(the lake casts to the table's types before computing keys and writing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from splake.lake.rowkeys import OccurrenceCounter, key_texts
from splake.lake.tables import PROVENANCE_COLUMNS, TableSpec

BATCH_ROWS = 131_072
REPEAT_MARGIN = 64  # repeat numbers tried beyond the count of unmatched rows sharing a text
EXAMPLES = 5

# per row: the first-occurrence key, the fingerprint the buggy version numbered repeats by (DuckDB hash() of
# the text: same DuckDB 2.0.0 then and now) and a fingerprint of the stored key (identical keys are counted)
_FIRST_SQL = "SELECT sha256(t) AS k0, hash(t) AS ft, hash(s) AS fs FROM batch"
_TEXT_FP_SQL = "SELECT sha256(t) AS k0, hash(t) AS ft FROM batch"
# every text's repeat keys #1..#b, joined with the unmatched rows of those texts
_REPEAT_SQL = (
    "SELECT u.i, c.n FROM rows_ u JOIN (SELECT k0, n, sha256(k0 || '#' || CAST(n AS VARCHAR)) AS kn "
    "FROM (SELECT k0, unnest(range(1, b + 1)) AS n FROM groups_)) c ON u.k0 = c.k0 AND u.s = c.kn"
)
_CANDIDATES = 262_144  # repeat keys hashed per query


@dataclass
class KeyCheck:
    """The row-key verification of one table."""

    table: str
    rows: int = 0  # rows checked
    wrong: int = 0  # rows whose key is wrong (bug-keyed + neither form)
    bug_keyed: int = 0  # "repeat" keys the colliding fingerprint of 5bb07ed..148d46c gave (sha256(own#n))
    unknown_form: int = 0  # keys matching neither sha256(text) nor sha256(sha256(text)#n)
    unproven: int = 0  # repeat keys without their earlier copies or a colliding text (not counted wrong)
    examples: list[dict[str, str]] = field(default_factory=list)  # up to 5: row_key, account, marketplace
    doubled: int = 0  # wrongly keyed rows whose text another live row also carries (stored twice)
    same_key: int = 0  # rows whose stored row_key an earlier live row of the table also has
    skipped: str | None = None  # why the table was not verified
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.wrong == 0 and self.same_key == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "wrong": self.wrong,
            "bug_keyed": self.bug_keyed,
            "unknown_form": self.unknown_form,
            "unproven_repeats": self.unproven,
            "examples": self.examples,
            "stored_twice": self.doubled,
            "same_row_key": self.same_key,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


def key_columns_of(spec: TableSpec, stored: pa.Schema) -> tuple[list[str] | None, str | None]:
    """The columns the lake computed this table's row keys from (as :func:`splake.lake.tables.prepare_batch`
    does), or ``(None, why)`` when they cannot be recovered from the stored columns."""
    business = [n for n in stored.names if n not in PROVENANCE_COLUMNS]
    if spec.key_columns:
        cols = [c for c in spec.key_columns if c not in PROVENANCE_COLUMNS]
        missing = [c for c in cols if c not in business]
        if missing:
            return None, f"key column(s) {missing} are not stored in the table"
        return cols, None
    # no declared key: every business column of the *document*, declared ones first, then the undeclared
    # ones it carried, in its order. Which undeclared columns a document carried is not stored.
    extra = [c for c in business if c not in spec.schema.names]
    if extra:
        return None, (
            f"keys are computed from all of a document's columns and the table holds undeclared ones "
            f"({', '.join(extra[:3])}{'…' if len(extra) > 3 else ''}) that not every document carried: "
            "the key text is not recoverable from the stored rows"
        )
    return [c for c in spec.schema.names if c != "marketplace_id"], None


_EMPTY = pa.schema(
    [
        ("s", pa.string()),
        ("k0", pa.string()),
        ("ft", pa.uint64()),
        ("account_id", pa.string()),
        ("marketplace_id", pa.string()),
        ("source_key", pa.string()),
    ]
)


def _texts(rb: pa.RecordBatch, key_columns: Sequence[str]) -> pa.Array:
    return key_texts(rb, rb.column("account_id"), rb.column("marketplace_id"), key_columns)


def first_pass(
    con: duckdb.DuckDBPyConnection,
    batches: Iterable[pa.RecordBatch],
    key_columns: Sequence[str],
    result: KeyCheck,
) -> pa.Table:
    """Check every row against its first-occurrence key; count identical stored keys; return the rows that
    did not match (schema ``_EMPTY``): repeats and wrong keys, few in any lake."""
    parts: list[pa.Table] = []
    seen = OccurrenceCounter()
    for rb in batches:
        if not rb.num_rows:
            continue
        stored = rb.column("row_key").cast(pa.string())
        batch = pa.table({"t": _texts(rb, key_columns), "s": stored})  # noqa: F841  (DuckDB scans it)
        res = con.sql(_FIRST_SQL).to_arrow_table()
        k0 = res.column("k0").combine_chunks().cast(pa.string())
        occ = seen.occurrences(res.column("fs").combine_chunks())
        if occ is not None:
            result.same_key += sum(1 for o in occ if o)
        result.rows += rb.num_rows
        mask = pc.fill_null(pc.not_equal(stored, k0), True)
        if pc.any(mask).as_py():
            cols = {
                "s": stored,
                "k0": k0,
                "ft": res.column("ft").combine_chunks(),
                "account_id": rb.column("account_id").cast(pa.string()),
                "marketplace_id": rb.column("marketplace_id").cast(pa.string()),
                "source_key": rb.column("source_key").cast(pa.string()),
            }
            parts.append(pa.table({k: pc.filter(v, mask) for k, v in cols.items()}, schema=_EMPTY))
    return pa.concat_tables(parts) if parts else _EMPTY.empty_table()


def repeat_numbers(con: duckdb.DuckDBPyConnection, unmatched: pa.Table) -> pa.Array:
    """Per unmatched row, n when its key is ``sha256(k0#n)``, else 0. n is tried up to the number of
    unmatched rows sharing the text plus a margin (a document with m copies of a row stores #1..#m-1, all
    of them unmatched rows with that text): each text's candidates are hashed once and joined with its
    rows, in chunks of at most ``_CANDIDATES`` candidates (linear in the rows, bounded memory)."""
    rows = unmatched.num_rows
    found = pa.array([0] * rows, pa.int64()) if rows else pa.array([], pa.int64())
    if not rows:
        return found
    k0 = unmatched.column("k0").combine_chunks()
    sizes = pc.value_counts(k0)
    texts = sizes.field("values").to_pylist()
    bounds = [c + REPEAT_MARGIN for c in sizes.field("counts").to_pylist()]
    everything = pa.table({"i": pa.array(range(rows), pa.int64()), "k0": k0, "s": unmatched.column("s")})
    out = [0] * rows
    start = 0
    while start < len(texts):
        end, total = start, 0
        while end < len(texts) and (end == start or total + bounds[end] <= _CANDIDATES):
            total += bounds[end]
            end += 1
        groups_ = pa.table({"k0": texts[start:end], "b": bounds[start:end]})  # noqa: F841  (DuckDB)
        rows_ = everything.filter(pc.is_in(everything.column("k0"), value_set=pa.array(texts[start:end])))  # noqa: F841
        hits = con.sql(_REPEAT_SQL).to_arrow_table()
        for i, n in zip(hits.column("i").to_pylist(), hits.column("n").to_pylist(), strict=True):
            out[i] = n
        start = end
    return pa.array(out, pa.int64())


def verify_batches(
    table: str,
    batches: Callable[[], Iterable[pa.RecordBatch]],
    key_columns: Sequence[str],
) -> KeyCheck:
    """Verify the row keys of the stored rows ``batches()`` yields (columns ``account_id``,
    ``marketplace_id``, ``source_key``, ``row_key`` and the key columns; called again, only when needed,
    for the second and third pass).

    A repeat key ``sha256(k0#n)`` is *proven* when its document (``source_key``) still holds more than n
    live rows with that text. An unproven one is *bug-keyed* when a live row of the same account and
    marketplace has a different text with the same DuckDB ``hash()``: the collision that made 5bb07ed..148d46c
    number it as a repeat. (An unproven repeat without such a witness had its earlier copies replaced by
    a later document: counted, not an error.)"""
    started = time.perf_counter()
    result = KeyCheck(table)
    con = OccurrenceCounter().connection()
    unmatched = first_pass(con, batches(), key_columns, result)
    n = repeat_numbers(con, unmatched)
    unmatched = unmatched.append_column("n", n)
    neither = unmatched.filter(pc.equal(n, 0))
    repeats = unmatched.filter(pc.greater(n, 0))
    # pass 2 (no hashing): which documents hold rows keyed by these texts' first-occurrence keys?
    wanted = pc.unique(unmatched.column("k0"))
    first_in: dict[str, set[str]] = {}
    if len(wanted):
        for rb in batches():
            hit = pc.is_in(rb.column("row_key"), value_set=wanted)
            if pc.any(hit).as_py():
                for k, src in zip(
                    pc.filter(rb.column("row_key"), hit).to_pylist(),
                    pc.filter(rb.column("source_key"), hit).to_pylist(),
                    strict=True,
                ):
                    first_in.setdefault(k, set()).add(src)
    copies: dict[tuple[str, str], int] = {}
    for k, src in zip(
        repeats.column("k0").to_pylist(), repeats.column("source_key").to_pylist(), strict=True
    ):
        copies[(k, src)] = copies.get((k, src), 0) + 1
    unproven = [
        i
        for i, (k, src, num) in enumerate(
            zip(
                repeats.column("k0").to_pylist(),
                repeats.column("source_key").to_pylist(),
                repeats.column("n").to_pylist(),
                strict=True,
            )
        )
        if copies[(k, src)] + (1 if src in first_in.get(k, ()) else 0) <= num
    ]
    suspects = repeats.take(pa.array(unproven, pa.int64()))
    bug = suspects.slice(0, 0)
    if suspects.num_rows:
        # pass 3: a colliding witness (same account, marketplace and DuckDB hash() of the text, other text)
        fps = pc.unique(suspects.column("ft"))
        witnesses: set[tuple[str, str, int, str]] = set()
        for rb in batches():
            texts = _texts(rb, key_columns)
            batch = pa.table({"t": texts})  # noqa: F841  (scanned by DuckDB by name)
            res = con.sql(_TEXT_FP_SQL).to_arrow_table()
            hit = pc.is_in(res.column("ft"), value_set=fps)
            if not pc.any(hit).as_py():
                continue
            for row in zip(
                pc.filter(rb.column("account_id"), hit).to_pylist(),
                pc.filter(rb.column("marketplace_id"), hit).to_pylist(),
                pc.filter(res.column("ft"), hit).to_pylist(),
                pc.filter(res.column("k0"), hit).to_pylist(),
                strict=True,
            ):
                witnesses.add(row)
        by_fp: dict[tuple[str, str, int], set[str]] = {}
        for acct, market, ft, k in witnesses:
            by_fp.setdefault((acct, market, ft), set()).add(k)
        keep = [
            bool(by_fp.get((a, m, f), set()) - {k})
            for a, m, f, k in zip(
                suspects.column("account_id").to_pylist(),
                suspects.column("marketplace_id").to_pylist(),
                suspects.column("ft").to_pylist(),
                suspects.column("k0").to_pylist(),
                strict=True,
            )
        ]
        bug = suspects.filter(pa.array(keep, pa.bool_()))
        result.unproven = suspects.num_rows - bug.num_rows
    result.bug_keyed = bug.num_rows
    result.unknown_form = neither.num_rows
    wrong = pa.concat_tables([bug, neither])
    result.wrong = wrong.num_rows
    for row in wrong.slice(0, EXAMPLES).to_pylist():
        result.examples.append(
            {"row_key": row["s"], "account_id": row["account_id"], "marketplace_id": row["marketplace_id"]}
        )
    # stored twice: a live row carries the text's correct key, or another unmatched row has the same text
    sizes = pc.value_counts(unmatched.column("k0"))
    shared = {
        k
        for k, c in zip(sizes.field("values").to_pylist(), sizes.field("counts").to_pylist(), strict=True)
        if c > 1
    }
    result.doubled = sum(1 for k in wrong.column("k0").to_pylist() if k in shared or k in first_in)
    result.seconds = time.perf_counter() - started
    return result


def file_batches(io: Any, uris: Sequence[str], columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The stored rows of data files, batch by batch, each file read with its own schema (a key column
    added to the table after the file was written is absent from it: a null key part, as when written)."""
    for uri in uris:
        with io.new_input(uri).open() as fh:
            # streamed column chunk by column chunk (pre-buffering a row group: +60% Arrow peak)
            pf = pq.ParquetFile(fh, pre_buffer=False, buffer_size=1 << 20)
            have = [c for c in columns if c in pf.schema_arrow.names]
            yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=have)


def check_table_keys(tbl: Any, uris: Sequence[str], spec: TableSpec | None) -> KeyCheck:
    """Verify the row keys of a loaded Iceberg table whose live data files are ``uris``."""
    name = str(tbl.name()[-1]) if callable(getattr(tbl, "name", None)) else "?"
    if spec is None:
        return KeyCheck(name, skipped="no declaration known for this table: row keys not verified")
    stored = tbl.schema().as_arrow()
    cols, why = key_columns_of(spec, stored)
    if cols is None:
        return KeyCheck(spec.name, skipped=why)
    needed = ["account_id", "marketplace_id", "source_key", "row_key", *cols]
    return verify_batches(spec.name, lambda: file_batches(tbl.io, uris, needed), cols)
