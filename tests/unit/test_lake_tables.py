"""Pure decisions of a lake write: row keys, occurrence numbering, stored shape, replace scopes."""

from __future__ import annotations

import collections
import hashlib
import random
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from splake.errors import BadDataError
from splake.lake.tables import (
    PROVENANCE_COLUMNS,
    OccurrenceCounter,
    Provenance,
    TableSpec,
    prepare_batch,
    stored_schema,
    window_bounds_for,
)

SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("sku", pa.string()),
        ("qty", pa.int64()),
        ("purchase_date", pa.timestamp("ns", tz="UTC")),
    ]
)
SPEC = TableSpec(
    "orders", SCHEMA, key_columns=("order_id", "sku"), replace="window", window_column="purchase_date"
)
PROV = Provenance(
    account_id="acct",
    report_id="R1",
    source_key="raw/reports/acct/x",
    ingested_at=datetime(2026, 1, 10, tzinfo=UTC),
    data_start=datetime(2026, 1, 1, tzinfo=UTC),
    data_end=datetime(2026, 1, 3, tzinfo=UTC),
    marketplace_id="ATVPDKIKX0DER",
)


def _rows(pairs: list[tuple[str | None, str | None]]) -> pa.RecordBatch:
    n = len(pairs)
    return pa.RecordBatch.from_pydict(
        {
            "order_id": [p[0] for p in pairs],
            "sku": [p[1] for p in pairs],
            "qty": list(range(n)),
            "purchase_date": [datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)] * n,
        },
        schema=SCHEMA,
    )


def _keys(batches: list[pa.RecordBatch], spec: TableSpec = SPEC, prov: Provenance = PROV) -> list[str]:
    counter = OccurrenceCounter()
    target = stored_schema(spec, batches[0].schema)
    out: list[str] = []
    for b in batches:
        out += prepare_batch(spec, b, target, prov, counter).column("row_key").to_pylist()
    return out


def test_row_key_is_sha256_of_account_marketplace_and_key_columns() -> None:
    [key] = _keys([_rows([("111-222", "SKU-1")])])
    expected = hashlib.sha256(b"acct\x1fATVPDKIKX0DER\x1f111-222\x1fSKU-1").hexdigest()
    assert key == expected


def test_row_keys_do_not_depend_on_batching() -> None:
    pairs = [(f"o{i % 7}", f"s{i % 3}") for i in range(50)]
    whole = _keys([_rows(pairs)])
    split = _keys([_rows(pairs[:13]), _rows(pairs[13:14]), _rows(pairs[14:])])
    assert whole == split
    assert len(set(whole)) == 50  # repeats are numbered, never collide


def test_exact_repeats_are_numbered_and_stable_across_reingest() -> None:
    pairs = [("o1", "s1"), ("o1", "s1"), ("o2", "s1"), ("o1", "s1")]
    first, second = _keys([_rows(pairs)]), _keys([_rows(pairs)])
    assert first == second
    assert len(set(first)) == 4
    assert first[0] == _keys([_rows([("o1", "s1")])])[0]  # the first occurrence has the plain key


def test_null_empty_account_and_marketplace_all_distinguish_keys() -> None:
    base = _keys([_rows([("o1", "")])])[0]
    assert _keys([_rows([("o1", None)])])[0] != base
    other_acct = Provenance(**{**PROV.__dict__, "account_id": "acct2"})
    assert _keys([_rows([("o1", "")])], prov=other_acct)[0] != base
    other_mkt = Provenance(**{**PROV.__dict__, "marketplace_id": "A2EUQ1WTGCTBG2"})
    assert _keys([_rows([("o1", "")])], prov=other_mkt)[0] != base


def test_occurrence_counter_matches_a_reference_count() -> None:
    rng = random.Random(7)
    values = [rng.getrandbits(64) for _ in range(20_000)]
    values += rng.choices(values, k=20_000)  # plenty of repeats
    rng.shuffle(values)
    counter = OccurrenceCounter()
    ref: collections.Counter[int] = collections.Counter()
    # batches of every size from one value to thousands (each seen_many merges a level), then a tail
    # value by value; each row's count equals the reference's count of its earlier occurrences
    i = 0
    while i < len(values):
        batch = values[i : i + rng.choice((1, 2, 7, 100, 1_000, 4_000))]
        i += len(batch)
        expected = []
        for v in batch:
            expected.append(ref[v])
            ref[v] += 1
        assert counter.seen_many(batch) == expected
        if i > len(values) - 300:
            break
    for v in values[i:]:
        assert counter.seen(v) == ref[v]
        ref[v] += 1
    assert len(counter) == len(ref)


def test_prepare_batch_adds_provenance_and_downcasts_ns() -> None:
    batch = _rows([("o1", "s1")])
    target = stored_schema(SPEC, batch.schema)
    out = prepare_batch(SPEC, batch, target, PROV, OccurrenceCounter())
    assert out.schema.names[-len(PROVENANCE_COLUMNS) :] == list(PROVENANCE_COLUMNS)
    assert out.schema.field("purchase_date").type == pa.timestamp("us", tz="UTC")
    row = out.to_pylist()[0]
    assert row["purchase_date"] == datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert row["account_id"] == "acct" and row["marketplace_id"] == "ATVPDKIKX0DER"
    assert row["report_id"] == "R1" and row["source_key"] == "raw/reports/acct/x"
    assert row["data_start"] == datetime(2026, 1, 1, tzinfo=UTC)


def test_marketplace_column_wins_and_missing_marketplace_is_an_error() -> None:
    spec = TableSpec(
        "t", pa.schema([("k", pa.string()), ("marketplace_id", pa.string())]), key_columns=("k",)
    )
    batch = pa.RecordBatch.from_pydict({"k": ["a", "b"], "marketplace_id": ["A1PA6795UKMFR9", None]})
    target = stored_schema(spec, batch.schema)
    out = prepare_batch(spec, batch, target, PROV, OccurrenceCounter())
    assert out.column("marketplace_id").to_pylist() == ["A1PA6795UKMFR9", "ATVPDKIKX0DER"]
    no_mkt = Provenance(**{**PROV.__dict__, "marketplace_id": None})
    with pytest.raises(BadDataError) as exc:
        prepare_batch(
            spec,
            pa.RecordBatch.from_pydict({"k": ["a"]}),
            stored_schema(spec, SCHEMA),
            no_mkt,
            OccurrenceCounter(),
        )
    assert "marketplace" in str(exc.value)


def test_undeclared_columns_are_kept_and_declared_missing_ones_are_null() -> None:
    batch = pa.RecordBatch.from_pydict({"order_id": ["o"], "sku": ["s"], "gift_wrap": [True]})
    target = stored_schema(SPEC, batch.schema)
    assert "gift_wrap" in target.names and "qty" in target.names
    row = prepare_batch(SPEC, batch, target, PROV, OccurrenceCounter()).to_pylist()[0]
    assert row["gift_wrap"] is True and row["qty"] is None and row["purchase_date"] is None


def test_uncastable_column_names_the_column() -> None:
    batch = pa.RecordBatch.from_pydict({"order_id": ["o"], "sku": ["s"], "qty": ["many"]})
    target = stored_schema(SPEC, batch.schema)
    with pytest.raises(BadDataError) as exc:
        prepare_batch(SPEC, batch, target, PROV, OccurrenceCounter())
    assert "qty" in str(exc.value) and exc.value.hint


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"replace": "window"}, "window_column"),
        ({"replace": "window", "window_column": "sku"}, "not a date"),
        ({"replace": "upsert"}, "replace mode"),
        ({"key_columns": ("nope",)}, "key columns"),
        ({"partition_by": (("sku", "bucket"),)}, "transform"),
    ],
)
def test_table_spec_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(BadDataError) as exc:
        TableSpec("orders", SCHEMA, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(exc.value)


def test_default_partitioning_uses_window_month() -> None:
    assert SPEC.partitioning() == (
        ("account_id", "identity"),
        ("marketplace_id", "identity"),
        ("purchase_date", "month"),
    )


def test_date_windows_cover_only_whole_days() -> None:
    lo, hi = window_bounds_for(
        pa.date32(), datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    )
    assert (lo, hi) == (date(2026, 1, 1), date(2026, 1, 3))
    lo, hi = window_bounds_for(
        pa.date32(), datetime(2026, 1, 1, 6, tzinfo=UTC), datetime(2026, 1, 3, 6, tzinfo=UTC)
    )
    assert (lo, hi) == (date(2026, 1, 2), date(2026, 1, 3))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["o", "o\x1fx", "", None, "\x00", "\\", "o\\x1fx"]),
            st.sampled_from(["x\x1fs", "s", "x", None, "\x00", "", "\\x00"]),
        ),
        min_size=1,
        max_size=40,
    ),
    cuts=st.lists(st.integers(min_value=1, max_value=39), max_size=4),
)
def test_row_keys_unique_and_batching_independent(
    pairs: list[tuple[str | None, str | None]], cuts: list[int]
) -> None:
    whole = _keys([_rows(pairs)])
    bounds = sorted({c for c in cuts if c < len(pairs)})
    pieces = [pairs[a:b] for a, b in zip([0, *bounds], [*bounds, len(pairs)], strict=True)]
    assert _keys([_rows(p) for p in pieces]) == whole
    assert len(set(whole)) == len(pairs)
    # equal key columns → the same first key; different → different
    first_of = {}
    for pair, key in zip(pairs, whole, strict=True):
        first_of.setdefault(pair, key)
    assert len(set(first_of.values())) == len(first_of)
