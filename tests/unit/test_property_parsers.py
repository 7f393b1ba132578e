"""Property-based tests (hypothesis) for the report decode + parse chain and the value casts.

Properties, for arbitrary generated flat files:
- every data line ends up exactly once: landed or quarantined (never silently dropped or duplicated);
- well-formed lines round-trip: the string values read back are the values written, in order, whatever
  the charset the document was encoded in (cp1252, cp932, UTF-8 with or without BOM) and whatever the
  parser's block size;
- ragged lines (wrong number of fields) are quarantined with a reason naming the field counts;
- integers and floats written in any accepted spelling cast back to the same number; garbage is flagged
  invalid, never turned into a silent null.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from splake.reports.casting import cast_strings
from splake.reports.decode import decoded
from splake.reports.locales import NO_VALUE_TOKENS
from splake.reports.parse import header_names, iter_document, line_numbering
from splake.reports.textsource import longest_line
from splake.reports.types import REPORT_TYPES

LISTINGS = REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"]
US = "ATVPDKIKX0DER"
JP = "A1VC38T7YXB528"
HEADER = ["seller-sku", "item-name", "listing-id", "extra-free-text"]  # 3 declared string columns + 1 new

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _field(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Amazon flat files are not quoted: a field never holds a tab or a line break.
    return st.text(alphabet, max_size=12).map(lambda s: s.strip())


CP1252_TEXT = st.characters(
    codec="cp1252", exclude_characters="\t\r\n\x00\x81\x8d\x8f\x90\x9d", exclude_categories=("Cc",)
)
CP932_TEXT = st.characters(
    codec="cp932",
    exclude_characters="\t\r\n\x00\xa2\xa3\xac\u2016\u2212\u301c",
    exclude_categories=("Cc", "Co"),
)
UNICODE_TEXT = st.characters(exclude_characters="\t\r\n\x00\ufeff", exclude_categories=("Cc", "Cs", "Co"))

ENCODINGS = {
    "cp1252": (CP1252_TEXT, "Cp1252", US),
    "cp932": (CP932_TEXT, "windows-31j", JP),
    "utf-8": (UNICODE_TEXT, "UTF-8", US),
    "utf-8-sig": (UNICODE_TEXT, "UTF-8", US),  # with a BOM
}


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    alphabet = ENCODINGS[encoding][0]
    rows = draw(st.lists(st.lists(_field(alphabet), min_size=4, max_size=4), max_size=25))
    # an all-empty line is a blank line to the CSV reader (skipped); make sure each row has content
    rows = [[r[0] or "sku", *r[1:]] for r in rows]
    return encoding, rows


def _write(tmp: Path, encoding: str, lines: list[str], name: str = "doc.gz") -> Path:
    text = "\n".join(lines) + "\n"
    path = tmp / name
    path.write_bytes(gzip.compress(text.encode(encoding)))
    return path


def _parse(path: Path, charset: str | None, marketplace: str, block_size: int = 1 << 20):  # type: ignore[no-untyped-def]
    with decoded(path, header_charset=charset, marketplace_id=marketplace, compression="GZIP") as doc:
        chunks = list(iter_document(doc.path, LISTINGS, block_size=block_size))
    table = pa.concat_tables([c.table for c in chunks]) if chunks else None
    bad = [b for c in chunks for b in c.bad]
    return table, bad


@SETTINGS
@given(doc=documents(), block=st.sampled_from([4096, 1 << 20]))
def test_wellformed_lines_round_trip_in_every_charset(
    tmp_path_factory, doc: tuple[str, list[list[str]]], block: int
) -> None:  # type: ignore[no-untyped-def]
    encoding, rows = doc
    _, charset, mp = ENCODINGS[encoding]
    tmp = tmp_path_factory.mktemp("rt")
    path = _write(tmp, encoding, ["\t".join(HEADER)] + ["\t".join(r) for r in rows])
    table, bad = _parse(path, charset, mp, block)
    assert bad == []
    got = [] if table is None else table.select(header_names(HEADER)).to_pylist()
    want = [{k: (v if v != "" else None) for k, v in zip(header_names(HEADER), r, strict=True)} for r in rows]
    # empty strings are nulls for declared columns, kept as "" for undeclared (string) ones
    got_norm = [{k: (v if v != "" else None) for k, v in r.items()} for r in got]
    assert got_norm == want


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.booleans(), st.lists(_field(CP1252_TEXT), min_size=1, max_size=7)),
        min_size=1,
        max_size=30,
    )
)
def test_every_line_lands_or_is_quarantined_exactly_once(
    tmp_path_factory, rows: list[tuple[bool, list[str]]]
) -> None:  # type: ignore[no-untyped-def]
    lines = []
    expected_good: list[str] = []
    expected_bad: list[int] = []
    for i, (good, fields) in enumerate(rows):
        fields = [f or "x" for f in fields]
        if good:
            fields = [f"sku{i}", *([*fields, "a", "b", "c"])[:3]]
            expected_good.append(fields[0])
        else:
            assume(len(fields) != 4)
            expected_bad.append(i + 2)  # 1-based line numbers; line 1 is the header
        lines.append("\t".join(fields))
    tmp = tmp_path_factory.mktemp("ragged")
    path = _write(tmp, "cp1252", ["\t".join(HEADER), *lines])
    table, bad = _parse(path, "Cp1252", US, block_size=4096)
    landed = [] if table is None else table.column("seller_sku").to_pylist()
    assert landed == expected_good
    assert sorted(b.line_number for b in bad) == expected_bad
    for b in bad:
        assert "expected 4" in b.reason and b.raw_line


def test_a_first_line_with_a_value_too_many_is_quarantined_alone(tmp_path: Path) -> None:
    """Found by the property above: a malformed FIRST data line (a value after the last column) made the
    parser take the whole document for one with a trailing tab on every row, so every well-formed row was
    quarantined as ragged (and the document held). Only that line is bad."""
    good = [f"sku{i}\ta\tb\tc" for i in range(1, 6)]
    path = _write(tmp_path, "cp1252", ["\t".join(HEADER), "x\tx\tx\tx\tx", *good])
    table, bad = _parse(path, "Cp1252", US, block_size=4096)
    assert table is not None and table.column("seller_sku").to_pylist() == [f"sku{i}" for i in range(1, 6)]
    assert [(b.line_number, "expected 4" in b.reason) for b in bad] == [(2, True)]
    # rows that do carry a trailing tab (an EMPTY extra field) still land, and one value there is quarantined
    tabbed = [g + "\t" for g in good]
    path = _write(tmp_path, "cp1252", ["\t".join(HEADER), "x\tx\tx\tx\tx", *tabbed], name="tabbed.gz")
    table, bad = _parse(path, "Cp1252", US, block_size=4096)
    assert table is not None and table.column("seller_sku").to_pylist() == [f"sku{i}" for i in range(1, 6)]
    assert [b.line_number for b in bad] == [2]


INT_SPELLINGS = st.integers(min_value=-(10**12), max_value=10**12).flatmap(
    lambda n: st.sampled_from([str(n), f"{n:,}", (f"+{n}" if n >= 0 else str(n)), f" {n} "]).map(
        lambda s, n=n: (n, s)
    )
)


@SETTINGS
@given(values=st.lists(INT_SPELLINGS, min_size=1, max_size=20))
def test_int_spellings_cast_to_the_same_number(values: list[tuple[int, str]]) -> None:
    typed, invalid = cast_strings(pa.array([s for _, s in values]), "int")
    assert not any(invalid.to_pylist())
    assert typed.to_pylist() == [n for n, _ in values]


@SETTINGS
@given(
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
        min_size=1,
        max_size=20,
    )
)
def test_float_spellings_cast_to_the_same_number(values: list[float]) -> None:
    texts = [repr(v) for v in values] + [f"{v:,.2f}" for v in values]
    typed, invalid = cast_strings(pa.array(texts), "float")
    assert not any(invalid.to_pylist())
    got = typed.to_pylist()
    n = len(values)
    for v, g in zip(values, got[:n], strict=True):
        assert g == v
    for v, g in zip(values, got[n:], strict=True):
        assert math.isclose(g, round(v, 2), rel_tol=1e-12, abs_tol=0.005)


@SETTINGS
@given(
    junk=st.text(st.characters(whitelist_categories=("Lu", "Ll", "Po", "So")), min_size=1, max_size=8).filter(
        lambda s: (
            s.strip()
            and not any(c.isdigit() for c in s)
            and s.strip().lower() not in {"nan", "inf", "infinity", "e"}
            and s.strip() not in NO_VALUE_TOKENS  # Amazon's "no value" placeholders land as null
        )
    ),
    kind=st.sampled_from(["int", "float", "timestamp", "date"]),
)
def test_garbage_is_flagged_invalid_never_silently_null(junk: str, kind: str) -> None:
    typed, invalid = cast_strings(pa.array([junk, ""]), kind)  # type: ignore[arg-type]
    assert invalid.to_pylist() == [True, False]
    assert typed[1].as_py() is None  # an empty field is a null, and not invalid


@SETTINGS
@given(data=st.binary(max_size=300), chunk=st.integers(min_value=1, max_value=64))
def test_longest_line_is_found_across_chunk_boundaries(tmp_path_factory, data: bytes, chunk: int) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("ll") / "doc.txt"
    path.write_bytes(data)
    assert longest_line(path, chunk=chunk) == max(len(line) for line in data.split(b"\n"))


@pytest.mark.parametrize("trailing_tab", ["", "\t"])
def test_rows_after_a_ragged_row_are_quarantined_under_their_own_line(
    tmp_path: Path, trailing_tab: str
) -> None:
    """The parser skips a ragged row (quarantined with its own line); a bad value further down used to be
    numbered as if the skipped line did not exist (one line too early)."""
    spec = REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"]
    header = "item-name\tseller-sku\tprice\tquantity\topen-date"
    when = "2026-01-01 00:00:00 UTC"
    rows = [
        f"A\tsku1\t1.00\t1\t{when}{trailing_tab}",  # line 2
        "ragged\tx",  # line 3
        f"B\tsku3\tnotaprice\t1\t{when}{trailing_tab}",  # line 4
        f"C\tsku4\t2.00\t1\t{when}{trailing_tab}",  # line 5
        "ragged\ty",  # line 6
        f"D\tsku6\t2.00\tbad\t{when}{trailing_tab}",  # line 7
    ]
    path = tmp_path / "listings.txt"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    bad = [b for chunk in iter_document(path, spec, window_start=None, block_size=4096) for b in chunk.bad]
    assert sorted((b.line_number, b.raw_line.split("\t")[0]) for b in bad) == [
        (3, "ragged"),
        (4, "B"),
        (6, "ragged"),
        (7, "D"),
    ]


def test_line_numbering_counts_the_skipped_lines_before_each_row() -> None:
    # accepted rows at lines 2, 4, 5, 7, 8 (lines 3 and 6 skipped)
    line_of = line_numbering(0, [3, 6])
    assert [line_of(i) for i in range(5)] == [2, 4, 5, 7, 8]
    later_block = line_numbering(3, [3, 6])  # its first row is the 4th accepted row
    assert [later_block(i) for i in range(2)] == [7, 8]
    assert [line_numbering(10, [])(i) for i in range(2)] == [12, 13]
