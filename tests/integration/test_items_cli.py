"""The CLI on a real config file against the sandbox and moto: items add/list/sync, notifications
setup (--create-queue) and consume."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import load_config
from splake.runners.local import default_secrets_dir
from splake.sandbox.catalog import products_for


def write_config(sb, tmp_path: Path, notifications: str = "") -> Path:
    w = sb.world
    a = w.account("seller-na")
    lake = tmp_path / "lake"
    cfg = tmp_path / "splake.toml"
    cfg.write_text(
        f"""
[lake]
path = "{lake}"

[lwa]
client_id = "{w.client_id}"
token_url = "{sb.url}/auth/o2/token"

[spapi]
endpoint_override = "{sb.url}"

{notifications}

[[accounts]]
id = "seller-na"
region = "NA"
selling_partner_id = "{a.selling_partner_id}"
marketplaces = ["US", "CA"]
""",
        encoding="utf-8",
    )
    settings = load_config(cfg)
    secrets = LocalSecretStore(default_secrets_dir(settings))  # where the CLI looks
    secrets.put(settings.lwa.client_secret_ref, w.client_secret)
    secrets.put(settings.accounts[0].secret_ref, a.refresh_token)
    return cfg


def test_items_add_list_sync(sandbox, tmp_path: Path) -> None:
    cfg = write_config(sandbox, tmp_path)
    products = products_for(sandbox.world.seed, sandbox.world.account("seller-na"), sandbox.world.scale)[:6]
    listfile = tmp_path / "items.txt"
    listfile.write_text("# tracked\n" + "\n".join(p.sku for p in products[2:5]) + "\n", encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "items",
            "add",
            "-c",
            str(cfg),
            "-a",
            "seller-na",
            "-m",
            "US",
            "--asin",
            products[0].asin,
            "--sku",
            products[1].sku,
            "--file",
            str(listfile),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "5 registry" in r.output
    r = runner.invoke(app, ["items", "list", "-c", str(cfg), "-a", "seller-na"])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert sorted(x["value"] for x in rows if x["kind"] == "sku") == sorted(p.sku for p in products[1:5])
    assert {x["marketplace_id"] for x in rows} == {"ATVPDKIKX0DER"}
    r = runner.invoke(app, ["items", "sync", "-c", str(cfg), "--no-from-report"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])["items"]
    assert out["listings_found"] == 4 and out["catalog_calls"] == 2  # 1 ASIN batch + 1 SKU batch
    r = runner.invoke(app, ["items", "sync", "-c", str(cfg), "--no-catalog", "--orders", "--inventory"])
    assert r.exit_code == 0, r.output
    commerce = json.loads(r.output.strip().splitlines()[-1])["commerce"]["seller-na"]
    assert set(commerce) == {"orders", "inventory"}
    assert commerce["orders"]["orders"] > 0 and commerce["inventory"]["marketplaces"] == 2
    r = runner.invoke(app, ["items", "remove", "-c", str(cfg), "-a", "seller-na", "--sku", products[1].sku])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["items", "list", "-c", str(cfg), "-a", "seller-na"])
    left = [json.loads(line)["value"] for line in r.output.splitlines()]
    assert products[1].sku not in left and products[2].sku in left
    bad = runner.invoke(app, ["items", "add", "-c", str(cfg), "-a", "seller-na", "--asin", "nope"])
    assert bad.exit_code != 0 and "not an ASIN" in str(bad.exception)


def test_notifications_setup_and_consume(sandbox_factory, moto_server, tmp_path: Path) -> None:
    sb = sandbox_factory(aws_endpoint_url=moto_server.url)
    section = (
        '[sync]\nreport_types = ["GET_MERCHANT_LISTINGS_ALL_DATA"]\npoll_initial_seconds = 0.2\n\n'
        f'[notifications]\nenabled = true\naws_endpoint_url = "{moto_server.url}"\n'
    )
    cfg = write_config(sb, tmp_path, section)
    runner = CliRunner()
    r = runner.invoke(app, ["notifications", "setup", "-c", str(cfg), "--create-queue", "splake-cli-test"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    url = next(line.split("=", 1)[1].strip().strip("'") for line in lines if line.startswith("queue_url"))
    result = json.loads(lines[-1])
    assert set(result["subscriptions"]["seller-na"]) == {
        "REPORT_PROCESSING_FINISHED",
        "LISTINGS_ITEM_STATUS_CHANGE",
        "LISTINGS_ITEM_ISSUES_CHANGE",
    }
    attrs = moto_server.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] in (5, "5")
    assert "437568002678" in attrs["Policy"]
    cfg.write_text(
        cfg.read_text().replace("enabled = true", f'enabled = true\nqueue_url = "{url}"'), encoding="utf-8"
    )
    moto_server.client("sqs").send_message(
        QueueUrl=url, MessageBody='{"NotificationType": "ANY_OFFER_CHANGED"}'
    )
    r = runner.invoke(app, ["notifications", "consume", "-c", str(cfg), "--max", "1", "--wait", "0"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["malformed"] == 1

    # Notification-first report sync through the CLI: completed by REPORT_PROCESSING_FINISHED, no polls.
    r = runner.invoke(app, ["notifications", "sync", "-c", str(cfg), "--wait", "20"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out["requested"] >= 1 and out["completed_by_notification"] == out["requested"] and out["rows"] > 0
    assert sb.stats.requests_for("getReport") == 0
