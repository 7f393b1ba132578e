"""The hold message shows a share that visibly exceeds the limit (it said "1 of 19 … (5% > 5%)")."""

from __future__ import annotations

from splake.reports.hold import DocumentHeldError


def test_held_share_is_shown_precisely_enough_to_exceed_the_limit() -> None:
    def text(rows: int, bad: int) -> str:
        return DocumentHeldError(rows=rows, quarantined=bad, max_share=0.05, reasons=[], where="x").message

    assert "1 of 19 rows could not be read (5.3% > 5%)" in text(18, 1)
    assert "41 of 41 rows could not be read (100% > 5%)" in text(0, 41)
    assert "(5.01% > 5%)" in text(9499, 501)
