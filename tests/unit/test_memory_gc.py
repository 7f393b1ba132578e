"""splake.reports.memory.tune_gc, in a process of its own (it freezes what the process holds)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    code = (
        "import gc, json; from splake.reports.memory import tune_gc, GC_YOUNG_THRESHOLD; "
        "before = gc.get_freeze_count(); tune_gc(); "
        "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()[0], GC_YOUNG_THRESHOLD]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, frozen, young, expected = json.loads(out.stdout)
    assert before == 0 and frozen > 1000  # the modules and classes start-up loaded
    assert young == expected == 20_000
