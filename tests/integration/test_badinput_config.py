"""Bad configuration and credentials: `splake sync` stops with a clear error (what, where, how to fix) and
exit code 2 before touching anything; a revoked refresh token fails that account's streams with a
re-authorize hint (exit code 1) and leaves what is already landed untouched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

GOOD = """
[lake]
path = "{lake}"
[lwa]
client_id = "amzn1.application-oa2-client.x"
[sync]
report_types = ["GET_MERCHANT_LISTINGS_ALL_DATA"]
[[accounts]]
id = "acme-na"
region = "NA"
selling_partner_id = "A1EXAMPLE"
marketplaces = ["US", "CA"]
"""


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    cfg = tmp_path / "splake.toml"
    cfg.write_text(text.replace("{lake}", str(tmp_path / "lake")), encoding="utf-8")
    res = CliRunner().invoke(app, ["sync", "--config", str(cfg), "--quiet", *args])
    return res.exit_code, res.output + (res.stderr if res.stderr_bytes is not None else "")


CASES: list[tuple[str, Callable[[str], str], tuple[str, ...]]] = [
    ("bad toml", lambda t: t.replace('id = "acme-na"', 'id = "acme-na'), ("not valid TOML", "line")),
    (
        "unknown key",
        lambda t: t.replace("[sync]", "[sync]\nlookback_dayz = 3"),
        ("lookback_dayz", "unknown key"),
    ),
    (
        "missing key",
        lambda t: t.replace('client_id = "amzn1.application-oa2-client.x"', ""),
        ("lwa.client_id", "add"),
    ),
    (
        "unknown marketplace",
        lambda t: t.replace('["US", "CA"]', '["US", "XX"]'),
        ("unknown marketplace 'XX'",),
    ),
    (
        "marketplace in another region",
        lambda t: t.replace('["US", "CA"]', '["US", "DE"]'),
        ("is in region EU, not NA", "separate account"),
    ),
    ("unknown region", lambda t: t.replace('region = "NA"', 'region = "MARS"'), ("unknown region 'MARS'",)),
    ("bad account id", lambda t: t.replace('id = "acme-na"', 'id = "Acme NA!"'), ("accounts[0]", "id")),
    (
        "duplicate account",
        lambda t: t + t[t.index("[[accounts]]") :],
        ("duplicate account ids: acme-na",),
    ),
    (
        "unknown report type",
        lambda t: t.replace('"GET_MERCHANT_LISTINGS_ALL_DATA"', '"GET_NO_SUCH_REPORT"'),
        ("GET_NO_SUCH_REPORT",),
    ),
    ("negative lookback", lambda t: t.replace("[sync]", "[sync]\nlookback_days = -1"), ("lookback_days",)),
]


@pytest.mark.parametrize("name,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_a_clear_error_and_touches_nothing(
    tmp_path: Path, name: str, mutate: Callable[[str], str], expected: tuple[str, ...]
) -> None:
    code, out = _run(tmp_path, mutate(GOOD))
    assert code == 2, (name, code, out)
    assert out.startswith("error:") or "error:" in out, out
    for text in expected:
        assert text in out, (text, out)
    assert "Traceback" not in out
    assert not (tmp_path / "lake").exists()  # nothing created before the config was validated


def test_missing_config_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["sync", "--config", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "not found" in res.output and "splake init" in res.output


def test_unknown_report_type_on_the_command_line(tmp_path: Path) -> None:
    code, out = _run(tmp_path, GOOD, "--report-type", "GET_NOPE")
    assert code == 2 and "unsupported report type 'GET_NOPE'" in out


def test_unknown_account_on_the_command_line(tmp_path: Path) -> None:
    code, out = _run(tmp_path, GOOD, "--account", "nobody")
    assert code == 2 and "no account 'nobody'" in out and "acme-na" in out


def test_revoked_refresh_token_fails_that_account_only(sandbox: SandboxServer, tmp_path: Path) -> None:
    start = (datetime.now(UTC) - timedelta(days=1)).date()
    settings = demo_settings(
        sandbox.url, tmp_path / "lake", ("seller-na", "seller-jp"), world=sandbox.world, start_date=start
    )
    accounts = tuple(
        a.model_copy(update={"report_types": ("GET_MERCHANT_LISTINGS_ALL_DATA",)}) for a in settings.accounts
    )
    settings = settings.model_copy(update={"accounts": accounts})
    store = LocalSecretStore(default_secrets_dir(settings))
    seed_demo_secrets(store, sandbox.world, settings)

    async def run():  # type: ignore[no-untyped-def]
        ctx = LocalContext.open(settings)
        try:
            return await sync(settings, ctx, max_wait_seconds=60)
        finally:
            await ctx.aclose()

    first = asyncio.run(run())
    assert first.exit_code == 0
    landed = LocalContext.open(settings)
    try:
        before = landed.lake.table_stats()
    finally:
        landed.state.close()  # type: ignore[attr-defined]
    # the seller removed the app: its refresh token no longer works; the next run also adds a report type
    store.put(settings.account("seller-na").secret_ref, "Atzr|IwEBIrevoked-by-the-seller")
    more = ("GET_MERCHANT_LISTINGS_ALL_DATA", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL")
    settings = settings.model_copy(
        update={"accounts": tuple(a.model_copy(update={"report_types": more}) for a in settings.accounts)}
    )
    second = asyncio.run(run())
    assert second.exit_code == 1
    assert {a for a, _, _ in second.failures} == {"seller-na"}
    text = " ".join(f for _, _, f in second.failures)
    assert "refresh token" in text and ("authoriz" in text.lower())
    assert "Atzr|IwEBIrevoked" not in text
    after = LocalContext.open(settings)
    try:
        assert after.lake.table_stats()["merchant_listings"] == before["merchant_listings"]
        engine = after.query_engine()
        try:
            accounts = (
                engine.sql("select distinct account_id from orders_by_order_date").column(0).to_pylist()
            )
        finally:
            engine.close()
        assert accounts == ["seller-jp"]  # the other account kept going
    finally:
        after.state.close()  # type: ignore[attr-defined]
