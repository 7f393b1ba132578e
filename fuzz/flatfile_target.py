"""Fuzz target: the flat-file path of report ingestion (gunzip → charset decode → TSV parse → casts).

``check(data)`` is the whole target; atheris (``fuzz/fuzz_flatfile.py``) and hypothesis
(``tests/unit/test_property_fuzz_flatfile.py``) both drive it. The first byte of ``data`` picks the
Content-Type charset label and whether the payload is gzipped; the rest is the document.

Contract checked on every input:
- the only exceptions are splake's ``BadDataError`` (unparseable document) and ``RetryableError``
  (corrupt gzip: download again) — anything else (IndexError, UnicodeError, ArrowInvalid, …) is a bug;
- each parsed chunk carries the declared columns with their declared arrow types, in order;
- no line is counted twice: landed rows + quarantined rows ≤ data lines in the decoded document;
- every quarantined row has a reason and a line (TSV) or record (JSON) number (-1 when pyarrow cannot tell).
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from splake.errors import BadDataError, ReportFailedError, RetryableError
from splake.reports.decode import decoded
from splake.reports.parse import iter_document
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES

SPECS = (
    REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"],
    REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"],
    REPORT_TYPES["GET_SALES_AND_TRAFFIC_REPORT"],  # JSON: the same contract holds
    REPORT_TYPES["GET_VENDOR_SALES_REPORT"],
)
CHARSETS = (None, "Cp1252", "ISO-8859-1", "Shift_JIS", "windows-31j", "UTF-8", "UTF-16", "bogus-charset")
MARKETPLACES = ("ATVPDKIKX0DER", "A1VC38T7YXB528", "A1PA6795UKMFR9")
SMALL_BLOCK = 4096  # small parse blocks exercise block boundaries with small inputs


def check(data: bytes) -> None:
    if not data:
        return
    selector, body = data[0], data[1:]
    charset = CHARSETS[selector % len(CHARSETS)]
    spec = SPECS[(selector >> 2) % len(SPECS)]
    gzipped = bool(selector & 0x40)
    marketplace = MARKETPLACES[(selector >> 4) % len(MARKETPLACES)]
    payload = gzip.compress(body, compresslevel=1) if gzipped else body
    with tempfile.TemporaryDirectory(prefix="splake-fuzz-") as tmp:
        src = Path(tmp) / "doc"
        src.write_bytes(payload)
        try:
            with decoded(src, header_charset=charset, marketplace_id=marketplace, compression="GZIP") as doc:
                text_lines = _data_lines(doc.path)
                landed = bad = header_rejected = 0
                for chunk in iter_document(doc.path, spec, block_size=SMALL_BLOCK):
                    declared = table_spec(spec).schema  # declared columns first, declared types
                    names = chunk.table.schema.names
                    assert names[: len(declared)] == declared.names, (names[: len(declared)], declared.names)
                    for f in declared:
                        assert chunk.table.schema.field(f.name).type == f.type, f.name
                    for b in chunk.bad:
                        assert b.reason, b
                        first = 2 if spec.format == "tsv" else 1  # TSV: after the header; JSON: record no.
                        if spec.format == "tsv" and b.line_number == 1:  # a foreign header: nothing lands
                            assert chunk.table.num_rows == 0 and len(chunk.bad) == 1, b
                            header_rejected = 1
                            continue
                        assert b.line_number == -1 or b.line_number >= first, b
                    landed += chunk.table.num_rows
                    bad += len(chunk.bad)
                if spec.format == "tsv":
                    assert landed + bad <= text_lines + header_rejected, (landed, bad, text_lines)
        except (BadDataError, RetryableError, ReportFailedError):  # FATAL error document (JSON)
            pass


def _data_lines(path: Path) -> int:
    """Lines after the header (a final line without a newline counts)."""
    data = path.read_bytes()
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    # pyarrow also splits on a lone \r
    lines += data.count(b"\r") - data.count(b"\r\n")
    return max(0, lines - 1)
