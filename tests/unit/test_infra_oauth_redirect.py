"""The optional OAuth redirect endpoint synthesizes to an HTTP API route GET /callback on a Lambda whose
role can write refresh tokens and the state allow-list only (slow: a second CDK synth)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

pytest.importorskip("aws_cdk")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from infra.oauth_redirect import add_oauth_redirect
from infra.stack import SplakeStack


@pytest.mark.slow
def test_redirect_endpoint_route_and_least_privilege(tmp_path: Any) -> None:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = SplakeStack(app, "splake")
    add_oauth_redirect(stack)
    t = dict(assertions.Template.from_stack(stack).to_json())
    routes = [r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    assert [r["Properties"]["RouteKey"] for r in routes] == ["GET /callback"]
    fns = [r for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    fn = next(r for r in fns if "OAuth redirect" in r["Properties"].get("Description", ""))
    assert fn["Properties"]["ImageConfig"]["Command"] == ["splake.runners.aws.oauth_redirect.handler"]
    assert "OAuthRedirectUri" in t["Outputs"]
    role = next(k for k, r in t["Resources"].items() if r["Type"] == "AWS::IAM::Role" and "OAuth redirect"
                in r["Properties"].get("Description", ""))  # fmt: skip
    writes = []
    for res in t["Resources"].values():
        if res["Type"] != "AWS::IAM::Policy" or role not in json.dumps(res["Properties"]["Roles"]):
            continue
        for st in res["Properties"]["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not any(a.endswith("*") for a in actions)
            if "secretsmanager:PutSecretValue" in actions:
                writes.append(json.dumps(st["Resource"]))
    assert len(writes) == 1
    assert ":secret:splake/accounts/*" in writes[0] and ":secret:splake/oauth/*" in writes[0]
    assert "lwa" not in writes[0] and "cache" not in writes[0]
