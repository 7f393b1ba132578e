"""`splake deploy config|secret|secrets` against a moto server."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import load_config
from splake.runners.aws.backends import SecretsManagerSecretStore, SsmSettingsStore
from tests.support.aws_fixtures import MotoServer, unique

CONFIG = """
[lake]
path = "{lake}"
[lwa]
client_id = "amzn1.application-oa2-client.test"
[[accounts]]
id = "acme-na"
region = "NA"
selling_partner_id = "A1EXAMPLE"
marketplaces = ["US", "CA"]
"""


def test_deploy_config_and_secrets(moto_server: MotoServer, aws_kms_key: str, tmp_path: Path) -> None:
    cfg = tmp_path / "splake.toml"
    cfg.write_text(CONFIG.format(lake=tmp_path / "lake"))
    runner = CliRunner()
    prefix = "/" + unique("splake")
    ep = ["--endpoint-url", moto_server.url, "--region", "us-east-1"]

    res = runner.invoke(app, ["deploy", "config", "-c", str(cfg), "--ssm-prefix", prefix, *ep])
    assert res.exit_code == 0, res.output
    assert SsmSettingsStore(moto_server.endpoint, prefix=prefix).load() == load_config(cfg)

    sprefix = unique("splake") + "/"
    local = LocalSecretStore(tmp_path / "secrets")
    local.put("lwa/client_secret", "amzn1.oa2-cs.v1.local")
    args = [
        "deploy",
        "secrets",
        "-c",
        str(cfg),
        "--dir",
        str(tmp_path / "secrets"),
        "--secret-prefix",
        sprefix,
    ]
    res = runner.invoke(app, [*args, "--kms-key", aws_kms_key, *ep])
    assert res.exit_code == 1  # the account's refresh token is missing locally
    assert "accounts/acme-na/refresh_token" in res.output

    res = runner.invoke(
        app,
        [
            "deploy",
            "secret",
            "accounts/acme-na/refresh_token",
            "--secret-prefix",
            sprefix,
            "--kms-key",
            aws_kms_key,
            *ep,
        ],
        input="Atzr|from-stdin\n",
    )
    assert res.exit_code == 0, res.output
    assert "Atzr|from-stdin" not in res.output
    aws = SecretsManagerSecretStore(moto_server.endpoint, prefix=sprefix)
    assert aws.get("lwa/client_secret") == "amzn1.oa2-cs.v1.local"
    assert aws.get("accounts/acme-na/refresh_token") == "Atzr|from-stdin"
    desc = moto_server.client("secretsmanager").describe_secret(SecretId=sprefix + "lwa/client_secret")
    assert desc["KmsKeyId"] == aws_kms_key
