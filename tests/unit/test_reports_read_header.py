"""read_header (the drift check's look at a flat file) is read_head's header for any text: line endings,
no line ending, an empty or blank first line, a byte-order mark, bytes that are not UTF-8, a header line
longer than the first head read."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from splake.reports.textsource import HEAD_BYTES, read_head, read_header

CASES = [
    b"",
    b"\n",
    b"\r\n\r\n",
    b"   \t \nrow\n",
    b"sku\tprice\nA\t1\n",
    b"sku\tprice\r\nA\t1\r\n",
    b"sku\tprice\rA\t1\r",
    b"sku\tprice",
    b"\xef\xbb\xbfsku\tprice\n",
    b"sk\xffu\tpr\xc3ice\nA\t\xe2\x82\n",
    b"a\xe2\x82\nb\n",
    "Küche\t価格\r\nx\ty\n".encode(),
    b"\t".join(b"col-%d" % i for i in range(HEAD_BYTES // 4)) + b"\nA\n",  # longer than the first head read
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_read_header_is_read_heads_header(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    assert read_header(path) == read_head(path).header


def test_random_texts(tmp_path: Path) -> None:
    rng = random.Random(4)
    alphabet = [b"a", b"\t", b"\n", b"\r", b" ", b"\xc3\xa9", b"\xff", b"\xe2\x82"]
    path = tmp_path / "doc.txt"
    for _ in range(300):
        path.write_bytes(b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))))
        assert read_header(path) == read_head(path).header
