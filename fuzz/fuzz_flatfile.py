"""atheris entry point for the flat-file target: ``python fuzz/fuzz_flatfile.py -max_total_time=30``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris

with atheris.instrument_imports(include=["splake", "fuzz"]):
    from fuzz.flatfile_target import check


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
