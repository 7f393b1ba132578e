"""The flat-file fuzz target under hypothesis (runs everywhere, also where atheris cannot be installed),
plus the bounded atheris run CI does (``python -m fuzz --seconds N``)."""

from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz.flatfile_target import check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

TSV_LINE = st.lists(
    st.text(st.characters(exclude_characters="\t\n\r"), max_size=10), min_size=1, max_size=8
).map(lambda f: "\t".join(f))
TSV_DOC = st.lists(TSV_LINE, min_size=1, max_size=20).map(lambda ls: "\n".join(ls))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(selector=st.integers(0, 255), body=st.binary(max_size=2048))
def test_random_bytes_never_crash_the_flat_file_path(selector: int, body: bytes) -> None:
    check(bytes([selector]) + body)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(selector=st.integers(0, 255), doc=TSV_DOC, encoding=st.sampled_from(["utf-8", "cp1252", "cp932"]))
def test_tsv_shaped_documents_never_crash_the_flat_file_path(selector: int, doc: str, encoding: str) -> None:
    check(bytes([selector]) + doc.encode(encoding, errors="replace"))


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None and not os.environ.get("SPLAKE_CI"),
    reason="atheris not installed (pip install -e '.[fuzz]'); CI installs it and must run this",
)
def test_bounded_atheris_run_finds_no_crash(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fuzz", "--seconds", "15", "--corpus", str(tmp_path / "corpus")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tail = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, tail
    assert "Done" in proc.stderr and "runs in" in proc.stderr, tail


def test_a_report_specification_that_is_not_an_object_is_no_crash() -> None:
    """Found by the bounded atheris run: ``reportSpecification`` as a list crashed the in-memory JSON
    parser (AttributeError) instead of parsing the sections without a period."""
    doc = (
        b'{"reportSpecification": [{"date": "2026-11-20"}], '
        b'"salesAndTrafficByDate": [{"date": "2026-11-20"}]}'
    )
    check(bytes([0x08]) + doc)  # selector 0x08: no charset label, GET_SALES_AND_TRAFFIC_REPORT, not gzipped
    check(base64.b64decode(CRASH_1))


CRASH_1 = (
    "CHsicmVwb3J0U3BlY2lmaWNhdGlvbiI6IFt7ImRhdGUiOiAiMjAoNi0xMS0yMCIsICJzYWxlc0J5RGF0ZSI6"
    "IHsidW5pdHNPcmRlcmVkIjogM319XX0="
)
