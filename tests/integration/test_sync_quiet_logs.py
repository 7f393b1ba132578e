"""`splake sync` is quiet by default: retries and 429s are counted, not printed line by line; the full
structured log goes to --log-file at the configured log_level."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.logs import cli_logging, get_logger, log_event
from splake.runners.local import default_secrets_dir, sync_main
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


async def test_sync_prints_counts_not_retry_lines_and_logs_everything_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = SandboxConfig(seed=6, time_scale=0.005, spurious_429_rate=0.3)
    with SandboxServer(cfg) as sb:
        base = demo_settings(
            sb.url,
            tmp_path / "lake",
            ("seller-eu",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=1)).date(),
        )
        accounts = tuple(a.model_copy(update={"report_types": (LISTINGS,)}) for a in base.accounts)
        settings = base.model_copy(update={"accounts": accounts, "log_level": "DEBUG"})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)
        log_file = tmp_path / "logs" / "sync.jsonl"
        splake_logger = logging.getLogger("splake")
        before = (list(splake_logger.handlers), splake_logger.level, splake_logger.propagate)
        code = await sync_main(settings, log_file=log_file, max_wait=120)
        throttled = sum(sb.stats.throttled.values())
    # the run's logging is undone: not left at DEBUG, writing to its log file and to this test's stderr
    assert (list(splake_logger.handlers), splake_logger.level, splake_logger.propagate) == before
    out = capsys.readouterr()
    console = out.out + out.err
    assert code == 0, console
    assert throttled > 0  # the sandbox did answer 429s ...
    assert "spapi_request_retry" not in console  # ... which the console does not list one by one
    assert "were HTTP 429" in console  # but counts
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    retries = [e for e in events if e["event"] == "spapi_request_retry"]
    assert sum(1 for e in retries if e["status"] == 429) == throttled  # every one is in the file
    assert any(e["event"] == "spapi_request" and e["level"] == "debug" for e in events)  # log_level DEBUG


def test_cli_logging_levels_console_file_and_counter(tmp_path: Path) -> None:
    log = get_logger("splake.test_quiet")
    console = io.StringIO()
    with cli_logging("ERROR", tmp_path / "a.jsonl", stream=console) as counter:
        log_event(log, "spapi_request_retry", logging.WARNING, status=429)
        log_event(log, "something_odd", logging.WARNING)
        log_event(log, "broken", logging.ERROR)
        log_event(log, "spapi_request", logging.DEBUG)
    # log_level ERROR: the console and the file get errors only; the retry is still counted
    assert [json.loads(x)["event"] for x in console.getvalue().splitlines()] == ["broken"]
    assert [json.loads(x)["event"] for x in (tmp_path / "a.jsonl").read_text().splitlines()] == ["broken"]
    assert counter.retries == 1 and counter.http_429 == 1

    console = io.StringIO()
    with cli_logging("INFO", tmp_path / "b.jsonl", stream=console) as counter:
        log_event(log, "spapi_request_retry", logging.WARNING, status=503)
        log_event(log, "something_odd", logging.WARNING)
        log_event(log, "landed", logging.INFO)
        log_event(log, "spapi_request", logging.DEBUG)
    assert [json.loads(x)["event"] for x in console.getvalue().splitlines()] == ["something_odd"]
    in_file = [json.loads(x)["event"] for x in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert in_file == ["spapi_request_retry", "something_odd", "landed"]
    assert counter.summary() == "1 retries"


def test_a_quiet_command_leaves_the_process_logging_as_it_found_it(tmp_path: Path) -> None:
    """An in-process `splake sync --quiet` once left the 'splake' logger at ERROR with handlers on a
    closed stream: a later warning (credential_age_warning) was dropped, or ended in a logging error."""
    root = logging.getLogger("splake")
    saved = (list(root.handlers), root.level, root.propagate)
    caller = io.StringIO()
    mine = logging.StreamHandler(caller)
    for h in saved[0]:
        root.removeHandler(h)
    root.addHandler(mine)
    root.setLevel(logging.INFO)
    root.propagate = True
    try:
        with cli_logging("ERROR", tmp_path / "c.jsonl", quiet=True, stream=io.StringIO()):
            assert mine not in root.handlers  # the command's console and file only
            opened = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
            assert len(opened) == 1
        assert (root.handlers, root.level, root.propagate) == ([mine], logging.INFO, True)
        assert opened[0].stream is None  # the command's log file is closed
        log_event(get_logger("splake.auth.lwa"), "credential_age_warning", logging.WARNING, age_days=200)
        assert caller.getvalue().splitlines() == ["credential_age_warning"]
    finally:
        root.removeHandler(mine)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
        root.propagate = saved[2]
