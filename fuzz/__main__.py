"""Bounded fuzz run: ``python -m fuzz --seconds 30`` (atheris if installed, else hypothesis).

Exit code 0 = no crash found in the time given. Seeds come from ``fuzz/corpus/`` (created on first run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SEEDS: dict[str, bytes] = {
    "listings_cp1252": b"\x01item-name\tlisting-id\tseller-sku\tprice\tquantity\topen-date\n"
    b"Caf\xe9\tL1\tS1\t9,99\t1\t2026-11-01 10:00:00 PST\nshort\trow\n",
    "orders_sjis": b"\x0bamazon-order-id\tsku\tpurchase-date\tquantity\titem-price\n"
    b"111-1\tA\t2026-11-20T10:00:00+09:00\t1\t\x82\xa0\n",
    "bom_utf8": b"\x05\xef\xbb\xbfseller-sku\tprice\nA\t1.0\n",
    "sales_json": b'\x08{"reportSpecification": {"dataStartTime": "2026-11-20"}, '
    b'"salesAndTrafficByDate": [{"date": "2026-11-20", "salesByDate": {"unitsOrdered": 3}}]}',
}


def _seed_corpus(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        p = corpus / name
        if not p.exists():
            p.write_bytes(data)


def run_atheris(seconds: int, corpus: Path) -> int:
    artifacts = HERE / "artifacts"  # crash inputs land here; git-ignored, so a fresh clone lacks it
    artifacts.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        str(HERE / "fuzz_flatfile.py"),
        f"-max_total_time={seconds}",
        "-max_len=4096",
        "-timeout=20",
        "-rss_limit_mb=1024",
        f"-artifact_prefix={artifacts}/",
        str(corpus),
    ]
    return subprocess.run(cmd, cwd=HERE.parent).returncode


def run_hypothesis(seconds: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(HERE.parent))
    from fuzz.flatfile_target import check

    examples = 0

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.binary(max_size=4096) | st.sampled_from(list(SEEDS.values())))
    def target(data: bytes) -> None:
        nonlocal examples
        examples += 1
        check(data)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # rounds of 200 inputs (a failure raises with the shrunk input)
        target()
    print(f"hypothesis fallback: {examples} inputs, no crash")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus")
    args = ap.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    print(f"fuzzing the flat-file parser for {args.seconds}s with {engine}")
    if engine == "atheris":
        _seed_corpus(args.corpus)
        return run_atheris(args.seconds, args.corpus)
    return run_hypothesis(args.seconds)


if __name__ == "__main__":
    raise SystemExit(main())
