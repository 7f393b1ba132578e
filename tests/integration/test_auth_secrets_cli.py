"""`splake secrets set/list` through the real CLI app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app

CONFIG = """
[lake]
path = "{lake}"

[lwa]
client_id = "amzn1.application-oa2-client.test"

[[accounts]]
id = "acme-na"
region = "NA"
selling_partner_id = "A1EXAMPLE"
marketplaces = ["US"]

[[accounts]]
id = "acme-eu"
region = "EU"
selling_partner_id = "A2EXAMPLE"
marketplaces = ["DE"]
"""


def _config(tmp_path: Path) -> Path:
    p = tmp_path / "splake.toml"
    p.write_text(CONFIG.format(lake=tmp_path / "lake"))
    return p


def test_set_reads_stdin_and_stores_encrypted_under_lake_path(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    runner = CliRunner()
    secret = "amzn1.oa2-cs.v1.abcdef0123456789"
    r = runner.invoke(app, ["secrets", "set", "lwa/client_secret", "--config", str(cfg)], input=secret + "\n")
    assert r.exit_code == 0, r.output
    assert "stored lwa/client_secret" in r.output
    assert secret not in r.output
    store = LocalSecretStore(tmp_path / "lake" / ".secrets")
    assert store.get("lwa/client_secret") == secret  # trailing newline stripped
    r = runner.invoke(app, ["secrets", "set", "lwa/client_secret", "-c", str(cfg)], input="v2")
    assert r.exit_code == 0 and "updated" in r.output
    assert store.get("lwa/client_secret") == "v2"


def test_value_on_the_command_line_is_rejected(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    r = CliRunner().invoke(app, ["secrets", "set", "lwa/client_secret", "plaintext-value", "-c", str(cfg)])
    assert r.exit_code == 2
    assert not (tmp_path / "lake" / ".secrets").exists()


def test_empty_value_and_bad_name_are_errors(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["secrets", "set", "lwa/client_secret", "-c", str(cfg)], input="\n")
    assert r.exit_code == 1 and "empty value" in r.output
    r = runner.invoke(app, ["secrets", "set", "../x", "-c", str(cfg)], input="v")
    assert r.exit_code == 1 and "invalid secret name" in r.output


def test_list_shows_ages_missing_and_warnings(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    d = tmp_path / "lake" / ".secrets"
    old = datetime.now(UTC) - timedelta(days=200)
    LocalSecretStore(d, clock=lambda: old).put("lwa/client_secret", "amzn1.oa2-cs.v1.old")
    LocalSecretStore(d).put("accounts/acme-na/refresh_token", "Atzr|IwEBfresh")
    r = CliRunner().invoke(app, ["secrets", "list", "-c", str(cfg)])
    out = r.output
    assert r.exit_code == 1  # a required secret is missing
    assert "accounts/acme-eu/refresh_token" in out and "MISSING" in out
    assert "splake secrets set accounts/acme-eu/refresh_token" in out
    assert "lwa/client_secret" in out and "(200 days ago)" in out
    assert "accounts/acme-na/refresh_token" in out and "(0 days ago)" in out
    assert "warning: secret lwa/client_secret is 200 days old (> 180)" in out
    assert "Atzr|IwEBfresh" not in out and "amzn1.oa2-cs.v1.old" not in out
    LocalSecretStore(d).put("accounts/acme-eu/refresh_token", "Atzr|IwEBeu")
    r = CliRunner().invoke(app, ["secrets", "list", "-c", str(cfg)])
    assert r.exit_code == 0


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["secrets", "list", "-c", str(tmp_path / "nope.toml")])
    assert r.exit_code == 1 and "not found" in r.output and "splake init" in r.output
