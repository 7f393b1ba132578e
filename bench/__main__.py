"""Run every benchmark: ``python -m bench [name ...]``.

Imports each ``bench/*_bench.py`` (optionally only those whose name contains one of the given words)
and calls its ``main()``. A ``main()`` may write its own section of bench/results.json (see
:func:`merge_results`); if it returns a dict, that dict is merged too, under the module's short name
(``ratelimit_bench`` → ``"ratelimit"``). Other sections of results.json are never overwritten.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"


def merge_results(key: str, value: Any, path: Path = RESULTS) -> None:
    """Set ``results[key] = value`` in results.json, keeping every other key."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def discover(filters: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("*_bench.py"))
    return [n for n in names if not filters or any(f in n for f in filters)]


def main(argv: list[str] | None = None) -> int:
    filters = list(sys.argv[1:] if argv is None else argv)
    if str(BENCH_DIR.parent) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR.parent))
    failed = []
    for name in discover(filters):
        print(f"=== {name} ===", flush=True)
        started = time.perf_counter()
        saved_argv = sys.argv
        sys.argv = [str(BENCH_DIR / f"{name}.py")]  # each bench parses its own (default) options
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.main()
            if isinstance(result, dict):
                merge_results(name.removesuffix("_bench"), result)
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        finally:
            sys.argv = saved_argv
        print(f"=== {name}: {time.perf_counter() - started:.1f} s ===", flush=True)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
