"""The AWS OAuth redirect Lambda on a moto server + the sandbox: an allow-listed state adds the account
(refresh token in Secrets Manager, marketplaces discovered, entry in the settings store); a replayed or
unknown state is refused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from splake.aws.clients import ENV_ENDPOINT
from splake.runners.aws.oauth_redirect import ENV_REDIRECT_URI, handler
from splake.runners.aws.runtime import Runtime
from splake.runners.aws.ssm_config import SsmSettingsStore
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings
from tests.support.aws_fixtures import MotoServer


def test_allow_listed_state_adds_the_account_once(
    moto_server: MotoServer, aws_kms_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    redirect = "https://abc123.execute-api.us-east-1.amazonaws.com/callback"
    uniq = "o" + uuid.uuid4().hex[:10]
    cfg = SandboxConfig(seed=7, time_scale=0.0, oauth_redirect_uris=(redirect,))
    with SandboxServer(cfg) as sb, httpx.Client(trust_env=False) as http:
        bucket = "lake-" + uniq  # the settings object lives in the stack's bucket
        moto_server.client("s3").create_bucket(Bucket=bucket)
        runtime = Runtime(
            table="unused", bucket=bucket, endpoint=moto_server.endpoint, kms_key_id=aws_kms_key,
            ssm_prefix="/" + uniq, secret_prefix=uniq + "/",
        )  # fmt: skip
        store = SsmSettingsStore(prefix=runtime.ssm_prefix, client=moto_server.client("ssm"))
        store.publish(demo_settings(sb.url, tmp_path, accounts=[], world=sb.world))
        secrets = runtime.secrets()
        secrets.put("lwa/client_secret", sb.world.client_secret)
        secrets.put("oauth/states", json.dumps({"st-agency-1": {"id": "muller-eu", "region": "EU"}}))
        env = {**runtime.env(), ENV_ENDPOINT: moto_server.url, ENV_REDIRECT_URI: redirect}
        for key, value in env.items():
            monkeypatch.setenv(key, value)

        form = {"application_id": sb.world.application_id, "state": "st-agency-1", "version": "beta",
                "account": "seller-eu", "action": "confirm"}  # fmt: skip
        loc = http.post(sb.url + "/apps/authorize/confirm", data=form).headers["location"]
        assert loc.startswith(redirect + "?")
        event = {"queryStringParameters": {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}}

        page = handler(event, None)
        assert page["statusCode"] == 200, page["body"]
        assert page["headers"]["Referrer-Policy"] == "no-referrer"
        account = store.load().account("muller-eu")
        truth = sb.world.account("seller-eu")
        assert account.selling_partner_id == truth.selling_partner_id
        assert account.marketplaces == truth.marketplace_ids  # discovered: DE, GB, FR
        token = secrets.get("accounts/muller-eu/refresh_token")
        ok = http.post(sb.url + "/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": token,
                       "client_id": sb.world.client_id, "client_secret": sb.world.client_secret})  # fmt: skip
        assert ok.status_code == 200

        assert handler(event, None)["statusCode"] == 403  # the state was used once
        forged = {"queryStringParameters": {**event["queryStringParameters"], "state": "guessed"}}
        assert handler(forged, None)["statusCode"] == 403
        assert json.loads(secrets.get("oauth/states")) == {}
