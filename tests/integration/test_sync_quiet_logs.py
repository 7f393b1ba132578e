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
from splake.logs import configure_cli_logging, get_logger, log_event
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
        code = await sync_main(settings, log_file=log_file, max_wait=120)
        throttled = sum(sb.stats.throttled.values())
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
    counter = configure_cli_logging("ERROR", tmp_path / "a.jsonl", stream=console)
    log_event(log, "spapi_request_retry", logging.WARNING, status=429)
    log_event(log, "something_odd", logging.WARNING)
    log_event(log, "broken", logging.ERROR)
    log_event(log, "spapi_request", logging.DEBUG)
    # log_level ERROR: the console and the file get errors only; the retry is still counted
    assert [json.loads(x)["event"] for x in console.getvalue().splitlines()] == ["broken"]
    assert [json.loads(x)["event"] for x in (tmp_path / "a.jsonl").read_text().splitlines()] == ["broken"]
    assert counter.retries == 1 and counter.http_429 == 1

    console = io.StringIO()
    counter = configure_cli_logging("INFO", tmp_path / "b.jsonl", stream=console)
    log_event(log, "spapi_request_retry", logging.WARNING, status=503)
    log_event(log, "something_odd", logging.WARNING)
    log_event(log, "landed", logging.INFO)
    log_event(log, "spapi_request", logging.DEBUG)
    assert [json.loads(x)["event"] for x in console.getvalue().splitlines()] == ["something_odd"]
    in_file = [json.loads(x)["event"] for x in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert in_file == ["spapi_request_retry", "something_odd", "landed"]
    assert counter.summary() == "1 retries"
    configure_cli_logging("WARNING")  # (closes the file handler)
