"""bench/__main__.py: discovery of *_bench.py modules and results.json merging that keeps other keys."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import discover, merge_results


def test_discover_finds_bench_modules_and_filters() -> None:
    names = discover([])
    assert "ratelimit_bench" in names and names == sorted(names)
    assert all(n.endswith("_bench") for n in names)
    assert discover(["ratelimit"]) == ["ratelimit_bench"]
    assert discover(["no-such-bench"]) == []


def test_merge_results_keeps_other_sections(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"items": {"ratio": 1.05}}))
    merge_results("ratelimit", {"ratio": 1.06}, path)
    merge_results("ratelimit", {"ratio": 1.04}, path)
    assert json.loads(path.read_text()) == {"items": {"ratio": 1.05}, "ratelimit": {"ratio": 1.04}}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    merge_results("x", 1, broken)
    assert json.loads(broken.read_text()) == {"x": 1}
