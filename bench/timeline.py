"""Timeline of a sync from its JSON-lines log (``bench/multiaccount_bench.py --log-file LOG``):

    .venv/bin/python -m bench.timeline LOG

Per report: created (client) → finished (sandbox) → noticed (client's getReport saw DONE) → downloaded →
ingested. Prints, in seconds from the first createReport, when each phase started/ended across all reports,
the spread of each per-report gap, and the SP-API calls (and 429s) per operation.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any


def _ts(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(line["ts"])).timestamp()


def load(path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(raw))
        except ValueError:
            continue
    return out


def timeline(lines: list[dict[str, Any]]) -> dict[str, Any]:
    created: dict[str, float] = {}
    finished: dict[str, float] = {}
    noticed: dict[str, float] = {}
    ingested: dict[str, float] = {}
    doc_report: dict[str, str] = {}
    downloaded: dict[str, float] = {}
    calls: Counter[str] = Counter()
    throttled: Counter[str] = Counter()
    for ln in lines:
        ev, rid = ln.get("event"), str(ln.get("report_id"))
        if ev in ("report_created", "report_reused"):
            created.setdefault(rid, _ts(ln))
        elif ev == "sandbox_report_finished":
            finished[rid] = _ts(ln)
            if ln.get("document_id"):
                doc_report[str(ln["document_id"])] = rid
        elif ev == "report_completed" and ln.get("status") in ("DONE", "CANCELLED", "FATAL"):
            noticed[rid] = _ts(ln)
        elif ev == "document_downloaded":
            downloaded[str(ln.get("url", "")).rsplit("/", 1)[-1]] = _ts(ln)
        elif ev == "report_ingested":
            ingested[rid] = _ts(ln)
        elif ev in ("spapi_request", "spapi_request_retry", "spapi_request_failed"):
            calls[str(ln.get("operation"))] += 1
            if ln.get("status") == 429:
                throttled[str(ln.get("operation"))] += 1
    got = {doc_report[d]: t for d, t in downloaded.items() if d in doc_report}
    t0 = min(created.values()) if created else 0.0
    phases: dict[str, dict[str, float]] = {}
    for name, d in (
        ("created", created),
        ("finished", finished),
        ("noticed", noticed),
        ("downloaded", got),
        ("ingested", ingested),
    ):
        if d:
            v = sorted(x - t0 for x in d.values())
            phases[name] = {
                "n": len(v),
                "first": round(v[0], 2),
                "median": round(statistics.median(v), 2),
                "p90": round(v[int(0.9 * (len(v) - 1))], 2),
                "last": round(v[-1], 2),
            }
    gaps: dict[str, dict[str, float]] = {}
    for name, a, b in (
        ("create→finish", created, finished),
        ("finish→notice", finished, noticed),
        ("notice→download", noticed, got),
        ("download→ingest", got, ingested),
        ("create→ingest", created, ingested),
    ):
        v = sorted(b[r] - a[r] for r in a if r in b)
        if v:
            gaps[name] = {
                "n": len(v),
                "min": round(v[0], 2),
                "median": round(statistics.median(v), 2),
                "p90": round(v[int(0.9 * (len(v) - 1))], 2),
                "max": round(v[-1], 2),
            }
    per_second: defaultdict[int, int] = defaultdict(int)
    for t in ingested.values():
        per_second[int((t - t0) // 10) * 10] += 1
    return {
        "phases_from_first_create": phases,
        "gaps": gaps,
        "calls": dict(calls),
        "throttled": dict(throttled),
        "ingested_per_10s": dict(sorted(per_second.items())),
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    res = timeline(load(Path(args[0])))
    print("phase (s from first create)   n    first  median   p90    last")
    for name, p in res["phases_from_first_create"].items():
        print(f"  {name:<26}{p['n']:>4} {p['first']:>8} {p['median']:>7} {p['p90']:>6} {p['last']:>7}")
    print("gap per report                n      min  median   p90     max")
    for name, g in res["gaps"].items():
        print(f"  {name:<26}{g['n']:>4} {g['min']:>8} {g['median']:>7} {g['p90']:>6} {g['max']:>7}")
    print("calls:", res["calls"], "429s:", res["throttled"])
    print("ingested per 10 s:", res["ingested_per_10s"])


if __name__ == "__main__":
    main()
