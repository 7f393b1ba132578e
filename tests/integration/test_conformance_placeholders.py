"""Amazon's "no value" placeholder ``--`` in typed columns lands as null through the real ingest path
(tests/support/conformance.py): every row lands, nothing is quarantined, the document is not held, and
string columns keep the text as written. Expectations are written from the document text in the test."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.support.conformance import ConformanceLab

FEES = "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"

# The US Fee Preview layout; "--" where a fee or a measurement does not apply (as Amazon writes it)
FEE_HEADER = (
    "sku\tfnsku\tasin\tproduct-name\tproduct-group\tbrand\tfulfilled-by\tyour-price\tsales-price\t"
    "longest-side\tmedian-side\tshortest-side\tlength-and-girth\tunit-of-dimension\titem-package-weight\t"
    "unit-of-weight\tproduct-size-tier\tcurrency\testimated-fee-total\testimated-referral-fee-per-unit\t"
    "estimated-variable-closing-fee\testimated-order-handling-fee-per-order\testimated-pick-pack-fee-per-unit\t"
    "estimated-weight-handling-fee-per-unit\texpected-fulfillment-fee-per-unit"
)
FEE_ROWS = [
    "S-1\tX001\tB001\tMug\tHome\tCascade\tAmazon\t19.99\t--\t5.1\t4.0\t3.2\t17.5\tinches\t0.8\tpounds\t"
    "Large standard\tUSD\t6.31\t3.00\t0.00\t--\t--\t--\t3.31",
    "S-2\tX002\tB002\t--\tHome\tCascade\tAmazon\t--\t--\t--\t--\t--\t--\tinches\t--\tpounds\t"
    "--\tUSD\t--\t--\t--\t--\t--\t--\t--",
    "S-3\tX003\tB003\tBottle\tSports\tCascade\tAmazon\t24.50\t22.00\t9.0\t3.0\t3.0\t21.0\tinches\t1.1\tpounds\t"
    "Large standard\tUSD\t7.98\t3.68\t0.00\t0.00\t4.30\t0.00\t4.30",
]
MONEY = ("your-price", "sales-price", "estimated-fee-total", "expected-fulfillment-fee-per-unit")
SIDES = ("longest-side", "item-package-weight")


def _expected(header: str, rows: list[str], column: str, kind: type) -> dict[str, object]:
    cols = header.split("\t")
    out: dict[str, object] = {}
    for line in rows:
        f = line.split("\t")
        cell = f[cols.index(column)]
        out[f[0]] = None if cell == "--" else kind(cell)
    return out


def test_fee_preview_and_listings_with_placeholders_land_every_row(tmp_path: Path) -> None:
    doc = "\n".join([FEE_HEADER, *FEE_ROWS]) + "\n"
    listings = (
        "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\tstatus\n"
        "Mug\t\tL-1\tL-1\t--\t--\t2026-11-01 10:00:00 PST\tActive\n"
        "--\t\tL-2\tL-2\t9.99\t3\t--\tActive\n"
        "Cup\t\tL-3\tL-3\t 12.00 \t -- \t2026-11-02 10:00:00 PST\tActive\n"
    )
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(
            doc.encode("utf-8"), report_type=FEES, marketplaces=("US",), content_type="text/plain"
        )
        assert out.status == "INGESTED", out.entry.reason
        assert out.entry.rows == 3 and out.entry.quarantined == 0
        assert lab.quarantine("fba_estimated_fees", out.report_id) == []
        got = {r["sku"]: r for r in lab.rows("fba_estimated_fees", out.report_id)}
        assert set(got) == {"S-1", "S-2", "S-3"}
        for col in MONEY:
            want = _expected(FEE_HEADER, FEE_ROWS, col, Decimal)
            assert {k: r[col.replace("-", "_")] for k, r in got.items()} == want, col
        for col in SIDES:
            want = _expected(FEE_HEADER, FEE_ROWS, col, float)
            assert {k: r[col.replace("-", "_")] for k, r in got.items()} == want, col
        # strings keep the placeholder as written
        assert got["S-2"]["product_name"] == "--" and got["S-2"]["product_size_tier"] == "--"

        out = lab.land_bytes(
            listings.encode("utf-8"), report_type=LISTINGS, marketplaces=("US",), content_type="text/plain"
        )
        assert out.status == "INGESTED" and out.entry.quarantined == 0, out.entry.reason
        rows = {r["seller_sku"]: r for r in lab.rows("merchant_listings", out.report_id)}
        assert {k: (r["price"], r["quantity"], r["open_date"]) for k, r in rows.items()} == {
            "L-1": (None, None, datetime(2026, 11, 1, 18, 0, tzinfo=UTC)),
            "L-2": (Decimal("9.99"), 3, None),
            "L-3": (Decimal("12.00"), None, datetime(2026, 11, 2, 18, 0, tzinfo=UTC)),
        }
        assert rows["L-2"]["item_name"] == "--"
