"""Onboarding many accounts as a user does it (issue 16), every command a real `splake` subprocess:

three sandbox sellers authorize the app through the website workflow (`splake accounts add`: the
consent page on the sandbox, Confirm, Amazon's redirect to splake's one-shot loopback listener, the
code exchanged at LWA), a vendor is added by self-authorization (refresh token on stdin), `splake
accounts check` reports roles (seller-eu's authorization lacks Amazon Fulfillment, so its FBA report
would fail) and the next `splake sync` lands data for all four. No file is edited by hand: the base
config is what `splake init` + the app's credentials give.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from splake.config import LakeSettings, LwaSettings, Settings, SpApiSettings, SyncSettings, dump_config
from splake.lake.catalog import open_catalog
from splake.lake.query import QueryEngine
from splake.sandbox import SandboxConfig, SandboxServer

SPLAKE = str(Path(sys.executable).parent / "splake")
ROOT = Path(__file__).resolve().parents[2]
ALL_ROLES = (
    "Inventory and Order Tracking",
    "Amazon Fulfillment",
    "Finance and Accounting",
    "Brand Analytics",
    "Product Listing",
    "Direct-to-Consumer Shipping (Restricted)",
    "Tax Invoicing (Restricted)",
)
FBA = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    FBA,
    "GET_VENDOR_SALES_REPORT",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_browser(tmp: Path) -> str:
    """$BROWSER must name one executable: a wrapper running tests/support/fake_browser.py."""
    script = tmp / "fake-browser"
    script.write_text(
        f"#!{sys.executable}\nimport runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "runpy.run_module('tests.support.fake_browser', run_name='__main__')\n"
    )
    script.chmod(0o755)
    return str(script)


def splake(*args: str, env: dict[str, str], stdin: str | None = None, ok: bool = True) -> Any:
    out = subprocess.run(
        [SPLAKE, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if ok:
        assert out.returncode == 0, f"splake {' '.join(args)}\n{out.stdout}\n{out.stderr}"
    return out


def base_config(sb: SandboxServer, lake: Path, redirect: str) -> str:
    """`splake init` + the app's credentials (client id, app id, redirect URI) for the sandbox app."""
    today = datetime.now(UTC).date()
    settings = Settings(
        lake=LakeSettings(path=str(lake)),
        lwa=LwaSettings(
            client_id=sb.world.client_id,
            token_url=sb.url + "/auth/o2/token",
            application_id=sb.world.application_id,
            redirect_uri=redirect,
            authorize_url_override=sb.url,
        ),
        spapi=SpApiSettings(endpoint_override=sb.url),
        sync=SyncSettings(
            report_types=TYPES,
            start_date=today - timedelta(days=5),
            lookback_days=1,
            poll_initial_seconds=0.2,
            poll_max_seconds=1.0,
        ),
    )
    return dump_config(settings)


def test_onboard_three_by_consent_one_self_authorized_check_roles_then_sync(tmp_path: Path) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/splake/callback"
    roles = {"seller-eu": tuple(r for r in ALL_ROLES if r != "Amazon Fulfillment")}
    cfg = SandboxConfig(seed=7, time_scale=0.0, oauth_redirect_uris=(redirect,), account_roles=roles)
    with SandboxServer(cfg) as sb:
        config = tmp_path / "splake.toml"
        config.write_text(base_config(sb, tmp_path / "lake", redirect))
        env = {
            **os.environ,
            "BROWSER": fake_browser(tmp_path),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        c = ["-c", str(config)]
        splake("secrets", "set", "lwa/client_secret", *c, env=env, stdin=sb.world.client_secret)

        # three sellers: website authorization workflow, marketplaces discovered
        for account_id, signin, market in (
            ("acme-us", "seller-na", "US"),
            ("acme-eu", "seller-eu", "DE"),
            ("acme-jp", "seller-jp", "JP"),
        ):
            out = splake(
                "accounts",
                "add",
                account_id,
                "-m",
                market,
                *c,
                env={**env, "SPLAKE_FAKE_BROWSER_SIGNIN": signin},
            )
            assert "/apps/authorize/consent?application_id=" in out.stdout and "version=beta" in out.stdout
        # one vendor: self-authorization (refresh token on stdin, never on the command line)
        vendor = sb.world.account("vendor-na")
        splake(
            "accounts",
            "add",
            "northwind",
            "--self-authorize",
            "--type",
            "vendor",
            "-m",
            "US",
            "--selling-partner-id",
            vendor.selling_partner_id,
            "--vendor-group",
            "Northwind Brands",
            *c,
            env=env,
            stdin=vendor.refresh_token + "\n",
        )

        written = tomllib.loads(config.read_text())
        by_id = {a["id"]: a for a in written["accounts"]}
        assert set(by_id) == {"acme-us", "acme-eu", "acme-jp", "northwind"}
        for account_id, signin in (
            ("acme-us", "seller-na"),
            ("acme-eu", "seller-eu"),
            ("acme-jp", "seller-jp"),
            ("northwind", "vendor-na"),
        ):
            truth = sb.world.account(signin)
            assert by_id[account_id]["selling_partner_id"] == truth.selling_partner_id
            assert by_id[account_id]["region"] == truth.region
        assert by_id["acme-us"]["marketplaces"] == ["US", "CA"]  # discovered, not typed
        assert by_id["acme-eu"]["marketplaces"] == ["DE", "GB", "FR"]
        assert by_id["northwind"]["vendor_group"] == "Northwind Brands"
        assert "refresh_token" not in config.read_text()  # tokens live in the secret store only
        listed = splake("secrets", "list", *c, env=env)
        assert "MISSING" not in listed.stdout

        # roles: seller-eu lacks Amazon Fulfillment
        chk = splake("accounts", "check", "--json", *c, env=env, ok=False)
        assert chk.returncode == 1, chk.stderr
        report = {a["account_id"]: a for a in json.loads(chk.stdout)["accounts"]}
        assert report["acme-eu"]["would_fail"] == [FBA]
        probes = {p["family"]: p["status"] for p in report["acme-eu"]["probes"]}
        assert probes["fba_inventory"] == "denied" and probes["finances"] == "ok"
        assert probes["orders"] == probes["orders_v0"] == probes["orders_rdt"] == "ok"
        for ok_id in ("acme-us", "acme-jp", "northwind"):
            assert report[ok_id]["ok"] and report[ok_id]["would_fail"] == [], report[ok_id]
            assert report[ok_id]["lwa"] == "ok"
        fixed = splake("accounts", "check", "acme-eu", "--exclude-denied", *c, env=env)  # human output
        assert f"WOULD FAIL: {FBA}" in fixed.stdout and "Amazon Fulfillment" in fixed.stdout
        assert tomllib.loads(config.read_text())["accounts"][1]["exclude_report_types"] == [FBA]

        # the next sync lands all four
        sync = splake("sync", *c, env=env)
        engine = QueryEngine(open_catalog(_settings(config)), "spapi")
        landed = engine.sql(
            "select account_id, count(*) n from orders_by_last_update group by 1 "
            "union all select account_id, count(*) from vendor_sales group by 1"
        ).to_pylist()
        accounts_with_rows = {r["account_id"] for r in landed if r["n"] > 0}
        assert accounts_with_rows == {"acme-us", "acme-eu", "acme-jp", "northwind"}, sync.stdout
        fba = engine.sql("select distinct account_id from fba_myi_inventory").to_pylist()
        assert {r["account_id"] for r in fba} == {"acme-us", "acme-jp"}

        # the US seller removes the app: the same command that rotates credentials re-authorizes it
        sb.configure(revoked_accounts=("seller-na",))
        us_env = {**env, "SPLAKE_FAKE_BROWSER_SIGNIN": "seller-na"}
        rot = splake("secrets", "rotate", "accounts/acme-us/refresh_token", *c, env=us_env)
        assert "invalid_grant" in rot.stdout and "stored the refresh token" in rot.stdout  # LWA-verified


def _settings(config: Path) -> Settings:
    from splake.config import load_config

    return load_config(config)
